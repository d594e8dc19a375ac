"""What runtui records about the process a run lives in, with secrets redacted.

Redacted by default (``RUNTUI_NO_REDACT=1`` turns it off):

* environment variables whose names contain TOKEN, SECRET, KEY, PASS
  (PASSWORD, DB_PASS), CREDENTIAL, AUTH or PRIVATE, or PWD as a word of
  their own (DB_PWD; not ``PWD``, the working folder, nor ``OLDPWD``);
* command-line values after flags with those words (``--token X``,
  ``--api-key=X``, ``--password X``);
* the password of any URL with credentials, in every environment value and
  argument (``http://bob:s3cret@proxy`` → ``http://bob:***@proxy``).
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import sys

REDACTED = "***"
_SECRET_WORDS = re.compile(r"TOKEN|SECRET|KEY|PASS|CREDENTIAL|AUTH|PRIVATE|(?:^|_)PWD(?:_|$)", re.I)
_NOT_SECRET = frozenset({"PWD"})  # the working folder
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]*@", re.I)


def redaction_enabled() -> bool:
    return os.environ.get("RUNTUI_NO_REDACT", "") in ("", "0")


def is_secret_name(name: str) -> bool:
    if name.upper() in _NOT_SECRET:
        return False
    return bool(_SECRET_WORDS.search(name.replace("-", "_")))


def redact_url_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` replaced by ``***``."""
    return _URL_PASSWORD.sub(rf"\1:{REDACTED}@", text) if "@" in text else text


def redact_env(env: dict[str, str]) -> dict[str, str]:
    if not redaction_enabled():
        return dict(env)
    return {
        k: (REDACTED if is_secret_name(k) else redact_url_passwords(v))
        for k, v in sorted(env.items())
    }


def redact_argv(argv: list[str]) -> list[str]:
    """Hide values that follow (or are attached to) secret-looking flags."""
    if not redaction_enabled():
        return list(argv)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if arg.startswith("-"):
            flag, eq, _value = arg.partition("=")
            if is_secret_name(flag.lstrip("-")):
                if eq:
                    out.append(f"{flag}={REDACTED}")
                else:
                    out.append(arg)
                    hide_next = True
                continue
        out.append(redact_url_passwords(arg))
    return out


def process_context(argv: list[str] | None = None) -> dict[str, object]:
    """The run fields that describe this process (without git, which costs subprocesses)."""
    from runtui import liveness

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    pid = os.getpid()
    return {
        "command": redact_argv(list(sys.argv if argv is None else argv)),
        "cwd": os.getcwd(),
        "host": liveness.hostname(),
        "user": user,
        "pid": pid,
        "pid_started": liveness.start_marker(pid),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "env": redact_env(dict(os.environ)),
    }
