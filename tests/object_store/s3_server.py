"""A local S3-compatible server for the object-store suite: moto's S3 on loopback.

    python s3_server.py PORT_FILE

Binds 127.0.0.1 on a free port, writes the port to PORT_FILE once it accepts connections,
and serves until killed. Requests are handled one at a time: moto checks a conditional put
(If-None-Match / If-Match) and then stores the object as two steps, so two concurrent puts
could both pass the check; real S3 makes them atomic, and so does serving them in turn.
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


def serialized(app):
    """A WSGI app that runs one request (its whole response included) at a time."""
    lock = threading.Lock()

    def wrapped(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    return wrapped


def main():
    port_file = sys.argv[1]
    app = serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
