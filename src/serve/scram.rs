//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL does it, on the server side: the user's
//! secret is a [`Verifier`] (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, what
//! `SELECT rolpassword FROM pg_authid` prints), so a verifier copied from PostgreSQL works
//! unchanged and a plain password from the configuration is turned into one at load.
//!
//! pgwire's own SCRAM needs the salted password itself, which a verifier does not contain;
//! the exchange here needs only StoredKey and ServerKey, as PostgreSQL's does. Fed by
//! [`super::auth`], which drives the messages of one connection through [`Exchange`].

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pgwire::api::auth::sasl::scram::{SCRAM_ITERATIONS, gen_salted_password};
use ring::{digest, hmac};

/// The SASL mechanism name.
pub const MECHANISM: &str = "SCRAM-SHA-256";

const KEY_LEN: usize = 32;

/// Why a verifier or a client message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScramError {
    /// A `[[users]] password` that starts like a verifier but is not one.
    #[error(
        "malformed SCRAM verifier ({reason}); expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> as pg_authid.rolpassword shows it"
    )]
    Verifier {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A client message that does not follow RFC 5802.
    #[error("invalid SCRAM message from the client: {0}")]
    Message(&'static str),
}

/// What the server keeps of a user's password: enough to check a client's proof and to
/// prove itself, not enough to log in.
#[derive(Clone)]
pub struct Verifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; KEY_LEN],
    server_key: [u8; KEY_LEN],
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// True when `text` is meant as a verifier rather than a plain password.
    pub fn looks_like(text: &str) -> bool {
        text.starts_with("SCRAM-SHA-256$")
    }

    /// Reads a PostgreSQL verifier.
    pub fn parse(text: &str) -> Result<Verifier, ScramError> {
        let bad = |reason| ScramError::Verifier { reason };
        let rest = text
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or(bad("it does not start with SCRAM-SHA-256$"))?;
        let (params, keys) = rest.split_once('$').ok_or(bad("no '$' before the keys"))?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or(bad("no ':' between iterations and salt"))?;
        let (stored, server) = keys
            .split_once(':')
            .ok_or(bad("no ':' between StoredKey and ServerKey"))?;
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(bad("the iteration count is not a positive number"))?;
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| bad("the salt is not base64"))?;
        let key = |k: &str, what| -> Result<[u8; KEY_LEN], ScramError> {
            STANDARD
                .decode(k)
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or(bad(what))
        };
        Ok(Verifier {
            iterations,
            salt,
            stored_key: key(stored, "StoredKey is not 32 base64-encoded bytes")?,
            server_key: key(server, "ServerKey is not 32 base64-encoded bytes")?,
        })
    }

    /// The verifier of a plain password, with a fresh random salt (SASLprep applied, as
    /// PostgreSQL does).
    pub fn from_password(password: &str) -> Verifier {
        let salt: [u8; 16] = rand::random();
        let salted = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
        let client_key = hmac_sha256(&salted, b"Client Key");
        Verifier {
            iterations: u32::try_from(SCRAM_ITERATIONS).unwrap_or(4096),
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, b"Server Key"),
        }
    }

    /// A verifier no password matches, for unknown users: they fail like a wrong password.
    pub fn impossible() -> Verifier {
        Verifier {
            iterations: u32::try_from(SCRAM_ITERATIONS).unwrap_or(4096),
            salt: rand::random::<[u8; 16]>().to_vec(),
            stored_key: rand::random(),
            server_key: rand::random(),
        }
    }
}

impl fmt::Display for Verifier {
    /// PostgreSQL's spelling of the verifier.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; KEY_LEN] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
    let mut out = [0; KEY_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

fn sha256(data: &[u8]) -> [u8; KEY_LEN] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0; KEY_LEN];
    out.copy_from_slice(d.as_ref());
    out
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The server's half of one exchange, after the client's first message.
#[derive(Debug)]
pub struct Exchange {
    verifier: Verifier,
    /// `c=` the client must send back: its GS2 header, base64.
    channel_binding: String,
    nonce: String,
    client_first_bare: String,
    server_first: String,
}

impl Exchange {
    /// Reads the client-first message and answers with the server-first message, checked
    /// later against `verifier`.
    pub fn start(
        client_first: &[u8],
        verifier: Verifier,
    ) -> Result<(Exchange, String), ScramError> {
        let text =
            std::str::from_utf8(client_first).map_err(|_| ScramError::Message("not UTF-8"))?;
        // gs2-header: "n,," or "y,," (no channel binding; only SCRAM-SHA-256 is offered).
        let mut parts = text.splitn(3, ',');
        let flag = parts.next().unwrap_or_default();
        let authzid = parts.next().unwrap_or_default();
        let bare = parts
            .next()
            .ok_or(ScramError::Message("client-first has no bare part"))?;
        if flag != "n" && flag != "y" {
            return Err(ScramError::Message(
                "channel binding was asked for, but only SCRAM-SHA-256 is offered",
            ));
        }
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .filter(|n| !n.is_empty())
            .ok_or(ScramError::Message("client-first has no nonce"))?;
        let nonce = format!(
            "{client_nonce}{}",
            STANDARD.encode(rand::random::<[u8; 18]>())
        );
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&verifier.salt),
            verifier.iterations
        );
        let exchange = Exchange {
            verifier,
            channel_binding: STANDARD.encode(format!("{flag},{authzid},")),
            nonce,
            client_first_bare: bare.to_owned(),
            server_first: server_first.clone(),
        };
        Ok((exchange, server_first))
    }

    /// Checks the client-final message: `Ok(Some(server_final))` when the proof is right,
    /// `Ok(None)` when the password is wrong.
    pub fn finish(&self, client_final: &[u8]) -> Result<Option<String>, ScramError> {
        let text =
            std::str::from_utf8(client_final).map_err(|_| ScramError::Message("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(ScramError::Message("client-final has no proof"))?;
        let attribute = |name: &str| {
            without_proof
                .split(',')
                .find_map(|a| a.strip_prefix(name))
                .unwrap_or_default()
        };
        if attribute("c=") != self.channel_binding {
            return Err(ScramError::Message("channel binding mismatch"));
        }
        if attribute("r=") != self.nonce {
            return Err(ScramError::Message("nonce mismatch"));
        }
        let proof = STANDARD
            .decode(proof)
            .map_err(|_| ScramError::Message("the proof is not base64"))?;
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let signature = hmac_sha256(&self.verifier.stored_key, auth_message.as_bytes());
        if proof.len() != KEY_LEN {
            return Ok(None);
        }
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        if !same(&sha256(&client_key), &self.verifier.stored_key) {
            return Ok(None);
        }
        let server_signature = hmac_sha256(&self.verifier.server_key, auth_message.as_bytes());
        Ok(Some(format!("v={}", STANDARD.encode(server_signature))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's side of RFC 5802, from the password, to drive [`Exchange`].
    fn client_final(password: &str, client_first_bare: &str, server_first: &str) -> String {
        let field = |name: &str| {
            server_first
                .split(',')
                .find_map(|a| a.strip_prefix(name))
                .expect("server-first field")
                .to_owned()
        };
        let salt = STANDARD.decode(field("s=")).expect("salt");
        let iterations: usize = field("i=").parse().expect("iterations");
        let salted = gen_salted_password(password, &salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let without_proof = format!("c=biws,r={}", field("r="));
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac_sha256(&sha256(&client_key), auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(k, s)| k ^ s)
            .collect();
        format!("{without_proof},p={}", STANDARD.encode(proof))
    }

    fn login(verifier: &Verifier, password: &str) -> Option<String> {
        let (exchange, server_first) =
            Exchange::start(b"n,,n=,r=abcdefghijkl", verifier.clone()).expect("start");
        let last = client_final(password, "n=,r=abcdefghijkl", &server_first);
        exchange.finish(last.as_bytes()).expect("finish")
    }

    #[test]
    fn postgres_verifier_round_trips_and_checks_the_password() {
        let made = Verifier::from_password("s3cret");
        let text = made.to_string();
        let parsed = Verifier::parse(&text).expect("parse");
        assert_eq!(parsed.to_string(), text);
        assert!(login(&parsed, "s3cret").is_some_and(|v| v.starts_with("v=")));
        assert!(login(&parsed, "wrong").is_none());
        assert!(login(&Verifier::impossible(), "").is_none());
    }

    #[test]
    fn malformed_verifiers_say_what_is_wrong() {
        for bad in [
            "SCRAM-SHA-256$4096:c2FsdA==",
            "SCRAM-SHA-256$x:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
        ] {
            let e = Verifier::parse(bad).expect_err(bad).to_string();
            assert!(e.contains("malformed SCRAM verifier"), "{e}");
        }
    }
}
