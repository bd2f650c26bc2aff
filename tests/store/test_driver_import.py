"""The embedded store's commands do not load pymongo's pyOpenSSL backend (0.16 s of every
command's start); a real MongoDB, reached through MONGO_URI, keeps it and its OCSP checks."""

import os
import subprocess
import sys

PROBE = ("import sys, listening.store, pymongo.ssl_support as tls; "
         "print(tls.HAVE_PYSSL, 'OpenSSL' in sys.modules, 'requests' in sys.modules); "
         "import OpenSSL")  # hidden only while pymongo loads: importable afterwards


def probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_embedded_store_imports_pymongo_without_pyopenssl():
    assert probe() == "False False False"


def test_mongo_uri_keeps_pyopenssl_and_ocsp():
    assert probe(MONGO_URI="mongodb://127.0.0.1:1/") == "True True True"
