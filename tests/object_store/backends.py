"""The object stores the suite runs against, each a real server started on loopback.

A backend starts its server, creates the bucket (or container) with the service's own Python
client, says which `--data` URL and which environment variables point cdrlake at it, and lists
the keys under a prefix with that client, so the tests see what cdrlake really wrote.

    S3      moto's S3 server (PyPI moto[server]), see s3_server.py; the AWS_* variables.
    Azure   Azurite's Blob service (npm azurite; run.sh installs it and sets AZURITE_BLOB),
            addressed like a real account: AZURE_STORAGE_ACCOUNT_NAME, _ACCOUNT_KEY, _ENDPOINT.

Google Cloud Storage has no backend: no emulator installable here serves what object_store's
GCS client needs (see README.md), so cdrlake refuses gs:// and test_gs_is_refused checks that.
"""

import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUCKET = "cdrlake-test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Backend:
    """One server: `start()` it, then use `url`, `env` and `keys`; `stop()` it at the end."""

    name = ""
    scheme = ""

    def __init__(self, work):
        self.work = os.path.join(work, self.name)
        os.makedirs(self.work, exist_ok=True)
        self.proc = None
        self.log = os.path.join(self.work, "server.log")

    def url(self, prefix):
        """The `--data` URL of a store under prefix."""
        return f"{self.scheme}://{BUCKET}/{prefix}"

    def _spawn(self, args, ready, what):
        """Starts the server; waits until ready() (at most a minute) or the server exits."""
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        deadline = time.time() + 60
        while time.time() < deadline:
            if ready():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(self.log) as f:
            raise RuntimeError(f"{what} did not start:\n{f.read()}")

    def upload(self, directory, prefix):
        """Copies every file under a local directory to keys under prefix, as a user moving a
        store with the service's own tools would (the objects get new modification times)."""
        for root, _, files in os.walk(directory):
            for name in files:
                path = os.path.join(root, name)
                self.put(path, f"{prefix}/{os.path.relpath(path, directory)}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class S3(Backend):
    name = "s3"
    scheme = "s3"

    def start(self):
        import boto3

        port_file = os.path.join(self.work, "port")
        self._spawn([sys.executable, os.path.join(HERE, "s3_server.py"), port_file],
                    lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, "moto's S3 server")
        with open(port_file) as f:
            endpoint = f"http://127.0.0.1:{f.read().strip()}"
        self.env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "cdrlake-test",
            "AWS_SECRET_ACCESS_KEY": "cdrlake-test",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                   aws_access_key_id="cdrlake-test", aws_secret_access_key="cdrlake-test")
        self.client.create_bucket(Bucket=BUCKET)

    def buckets(self):
        return [b["Name"] for b in self.client.list_buckets()["Buckets"]]

    def put(self, path, key):
        self.client.upload_file(path, BUCKET, key)

    def keys(self, prefix):
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys


class Azure(Backend):
    name = "azure"
    scheme = "az"
    # Azurite's well-known development account.
    ACCOUNT = "devstoreaccount1"
    KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    def start(self):
        from azure.storage.blob import BlobServiceClient

        port = free_port()
        blob = os.environ["AZURITE_BLOB"]
        self._spawn([blob, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", self.work,
                     "--skipApiVersionCheck", "--silent"],
                    lambda: "successfully listens" in open(self.log).read(), "Azurite")
        endpoint = f"http://127.0.0.1:{port}/{self.ACCOUNT}"
        self.env = {
            "AZURE_STORAGE_ACCOUNT_NAME": self.ACCOUNT,
            "AZURE_STORAGE_ACCOUNT_KEY": self.KEY,
            "AZURE_STORAGE_ENDPOINT": endpoint,
            "AZURE_ALLOW_HTTP": "true",
        }
        self.client = BlobServiceClient.from_connection_string(
            f"DefaultEndpointsProtocol=http;AccountName={self.ACCOUNT};AccountKey={self.KEY};BlobEndpoint={endpoint};")
        self.client.create_container(BUCKET)

    def buckets(self):
        return [c.name for c in self.client.list_containers()]

    def put(self, path, key):
        with open(path, "rb") as f:
            self.client.get_container_client(BUCKET).upload_blob(key, f, overwrite=True)

    def keys(self, prefix):
        return [b.name for b in self.client.get_container_client(BUCKET).list_blobs(name_starts_with=prefix)]


BACKENDS = {b.name: b for b in (S3, Azure)}
