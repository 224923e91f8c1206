"""The throwaway signing PKI of the tests, built once per worker and served per test.

Building it (artisan_awards/documents/testpki.py: RSA-2048 and P-256 keys, certomancer's certificates
and responders) cost about 0.4 CPU-s, paid by every signing test, and a second PKI (another
authority's root) twice more. The PKI is test data that no test changes: its keys, certificates and
responders' answers are the same whichever test asks. What a test does change is its own:

- its signing folder (``write_body`` into the test's ``tmp_path``), its settings;
- its TSA/OCSP server: each test starts one (``serving``) on the port the certificates name and it is
  stopped at the test's end; a test that stops it early (to prove a verification needs nothing but
  the root) stops its own, and the next test starts a new one;
- the responders' latency (``Pki.latency``): a field of the test's own handle, 0 for every new one.

So a test cannot pass on another's leftovers: nothing it could leave behind is shared.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from artisan_awards.documents import testpki

_built: dict[tuple, testpki.Pki] = {}


def _folder() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="test-pki-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def built(bodies=None) -> testpki.Pki:
    """The worker's PKI (``bodies``: as ``testpki.make_pki``), built on first use."""
    key = tuple(b.key for b in bodies) if bodies else ()
    if key not in _built:
        _built[key] = testpki.make_pki(_folder(), bodies)
    return _built[key]


@contextmanager
def serving(bodies=None):
    """A handle of this test's own on the worker's PKI, its TSA and OCSP responders served until the end."""
    shared = built(bodies)
    pki = dataclasses.replace(shared, server=None, thread=None, latency=0.0)
    try:
        pki.start()
    except OSError:  # the port the certificates name was taken meanwhile: a PKI of this test's own
        pki = testpki.make_pki(_folder(), bodies)
        _built[tuple(b.key for b in bodies) if bodies else ()] = pki
        pki.start()
    try:
        yield pki
    finally:
        pki.stop()
