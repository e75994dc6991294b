//! Helpers shared by the integration tests: running the binary, generating input.
