"""Run pytest on the given files and print one TAP line per test on stdout (pytest's own
report goes to stderr), so that meson's TAP protocol and scripts/test-summary.py count each
test. Usage: python3 tap_runner.py TEST_FILE... [pytest options]"""
import contextlib
import sys

import pytest


class TapPlugin:
    def __init__(self):
        self.n = 0

    def _line(self, ok, nodeid, extra=""):
        self.n += 1
        sys.__stdout__.write(f"{'ok' if ok else 'not ok'} {self.n} - {nodeid}{extra}\n")
        sys.__stdout__.flush()

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
                self._line(True, report.nodeid, f" # SKIP {reason}")
            else:
                self._line(report.passed, report.nodeid)
                if report.failed:
                    for text in str(report.longrepr).splitlines()[-40:]:
                        sys.__stdout__.write(f"# {text}\n")
        elif report.when == "teardown" and report.failed:
            self._line(False, report.nodeid + " (teardown)")

    def pytest_sessionfinish(self, session, exitstatus):
        if self.n == 0:
            sys.__stdout__.write("1..0 # SKIP no tests collected\n")
        else:
            sys.__stdout__.write(f"1..{self.n}\n")
        sys.__stdout__.flush()


if __name__ == "__main__":
    plugin = TapPlugin()
    with contextlib.redirect_stdout(sys.stderr):
        rc = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[plugin])
    # failures are in the TAP lines; a collection error (no test ran) fails the program
    sys.exit(0 if rc in (0, 1, 5) and plugin.n > 0 else (1 if plugin.n == 0 else 0))
