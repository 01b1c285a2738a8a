#!/usr/bin/python3
"""Node tedious against hadrd: installs tedious 18 under build/node when it
is missing (CI machines start bare; tedious 19+ needs a newer Node than 20),
starts the server and runs tedious_test.js with the cases of cases.py."""
import os, shutil, subprocess, sys, tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import cases

TEDIOUS = "tedious@18"
PREFIX = os.path.join(cases.ROOT, "build", "node")
MODULE = os.path.join(PREFIX, "node_modules", "tedious")


def install():
    if os.path.exists(os.path.join(MODULE, "package.json")):
        return True
    if not shutil.which("node") or not shutil.which("npm"):
        print("tedious: node/npm not found (scripts/install-deps installs them)")
        return False
    os.makedirs(PREFIX, exist_ok=True)
    p = subprocess.run(["npm", "install", "--prefix", PREFIX, "--no-audit", "--no-fund", "--loglevel=error",
                        TEDIOUS], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    if p.returncode != 0:
        print(p.stdout.decode("utf-8", "replace"))
        print("tedious: npm install %s failed" % TEDIOUS)
        return False
    return True


def main():
    if not install():
        print("tedious: 0 checks passed, 1 failed")
        return 1
    srv = cases.start_server()
    fd, path = tempfile.mkstemp(prefix="hadr-cases-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(cases.cases_json())
        env = dict(os.environ, TEDIOUS_PATH=MODULE, HADR_PORT=str(srv.port), HADR_PASSWORD=cases.PASSWORD)
        try:
            rc = subprocess.run(["node", os.path.join(cases.HERE, "tedious_test.js"), path], env=env,
                                timeout=300).returncode
        except subprocess.TimeoutExpired:
            print("tedious: timed out")
            rc = 1
    finally:
        os.unlink(path)
        srv.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
