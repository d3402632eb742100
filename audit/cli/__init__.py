"""The command line: the only place that prints, writes reports and chooses exit codes.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or
input error; 3 incomplete evidence where --require-complete asked for completeness; 70 an
internal error (a bug: one line, the traceback under --debug).
"""

from audit.cli import audit_verbs, report_verbs
from audit.cli.common import main, program

__all__ = ["audit_verbs", "main", "program", "report_verbs"]
