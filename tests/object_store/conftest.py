"""pytest fixtures of the object-store suite: one real server per backend (backends.py).

The `store` fixture is module-scoped and parametrised over the backends, so pytest runs the
whole module once per backend, in definition order, starting each server once. Which backends
run: OBJECT_STORE_BACKENDS (comma-separated names, default all).
"""

import os
import tempfile

import pytest

from backends import BACKENDS
from lake import Lake

SELECTED = [b for b in os.environ.get("OBJECT_STORE_BACKENDS", ",".join(BACKENDS)).split(",") if b]


@pytest.fixture(scope="module", params=SELECTED)
def store(request):
    """A started backend and the scratch space of its run: a [`Lake`]."""
    work = tempfile.mkdtemp(prefix=f"objstore-{request.param}.", dir=os.environ.get("OBJECT_STORE_WORK"))
    backend = BACKENDS[request.param](work)
    try:
        backend.start()
        yield Lake(backend, backend.work)
    finally:
        backend.stop()
