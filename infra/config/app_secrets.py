"""Secrets in a stack file: where they may be written, and how a mistake is reported
without showing them.

A secret's value lives only in Pulumi's encrypted config (`pulumi config set --secret
slipway:<key> <value>`); an app's `secrets:` maps an environment variable to that key.
Two rules follow, both checked before any resource is registered:

- **No secret in plain text.** An entry of an app's `config:` (a ConfigMap) or `env:`
  (the Deployment) is refused when its *name* says it holds a secret
  (`secret_word`) or its *value* has the shape of a credential (`credential_shape`):
  either would sit in git, in the rendered objects and in CI logs. The value is never
  repeated in the message, only its length.
- **Every secret reference resolves.** Each `secrets:` entry names a `slipway:` key that
  is set, and set as a secret; one message per config key (naming the key, which is not
  secret, and every app that uses it), never also an "unknown key" message for it.

Not secrets, whatever the name: an empty value, a reference to another variable
(`$(VAR)`, which Kubernetes expands in `env:` from the app's secrets, or `${VAR}`), and
true/false/yes/no/on/off. A name refused wrongly is moved to `secrets:` like a real one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from slipway.program.config.errors import Issue
from slipway.program.config.model import _dict

# What `secrets.<ENV>` names: a `slipway:` config key (set with `pulumi config set --secret`).
CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

# A name's last meaningful word that makes it a secret (words split on _ - . and camelCase).
SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "CREDENTIALS", "CREDS", "APIKEY",
     "PRIVATEKEY"}
)  # fmt: skip
# Secret words only after another word: alone, PWD is the shell's working directory,
# PASS and AUTH are as often a mode or a flag (DB_PASS, BASIC_AUTH are secrets).
SECRET_SUFFIXES = frozenset({"PWD", "PASS", "AUTH"})
# KEY is a secret only in these pairs: CACHE_KEY, PARTITION_KEY, KEY_PREFIX are not.
SECRET_KEY_KINDS = frozenset({"API", "PRIVATE", "ACCESS", "SECRET", "SIGNING", "ENCRYPTION", "MASTER", "HMAC", "SSH"})
# Trailing words that qualify a secret without changing what it is (JWT_SECRET_PREVIOUS, API_KEY_2).
QUALIFIERS = re.compile(r"^(?:\d+|V\d+|OLD|NEW|CURRENT|PREVIOUS|PRIMARY|SECONDARY)$")

# Values that are never a secret, whatever their name.
NOT_SECRET = re.compile(r"^(?:|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}|true|false|yes|no|on|off)$",
                        re.IGNORECASE)  # fmt: skip
# Values shaped like credentials, whatever their name (what each is, for the message).
CREDENTIAL_SHAPES = (
    # scheme://user:password@host — a DSN or URL with its password (a $(VAR) password is fine).
    (re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:(?!\$\([A-Za-z_]\w*\)@)[^/?#@\s]+@"), "a URL with a password"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(?:gh[pousr]_|github_pat_|glpat-|xox[abprs]-|[sr]k_live_)[A-Za-z0-9_-]{10,}"), "an API token"),
)
# Where each section's values end up, for the message.
SECTIONS = {"config": "the ConfigMap", "env": "the Deployment"}


def words(name: str) -> list[str]:
    """A variable's name as upper-case words: split on `_`, `-`, `.` and camelCase humps."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return [w.upper() for w in re.split(r"[_.\-]+", spaced) if w]


def secret_word(name: str) -> str | None:
    """What in `name` says it holds a secret (e.g. `PASSWORD`, `API_KEY`), else None.

    The rule: the name's last word, qualifiers such as `_2` or `_OLD` aside, is a secret
    noun (`DATABASE_PASSWORD`, `githubToken`, `CLIENT_SECRET`, `DB_PASS`) or KEY after
    API/PRIVATE/ACCESS/SECRET/SIGNING/ENCRYPTION/MASTER/HMAC/SSH (`AWS_SECRET_ACCESS_KEY`).
    Names about a secret are not secrets: `PASSWORD_MIN_LENGTH`, `TOKEN_TTL_SECONDS`,
    `SECRET_ARN`, `PASSWORD_FILE`, `KEY_PREFIX`, `CACHE_KEY`, `CACHE_KEY_TTL`.
    """
    parts = words(name)
    while len(parts) > 1 and QUALIFIERS.match(parts[-1]):
        parts.pop()
    if not parts:
        return None
    last = parts[-1]
    if last in SECRET_WORDS or (last in SECRET_SUFFIXES and len(parts) > 1):
        return last
    if last == "KEY" and len(parts) > 1 and parts[-2] in SECRET_KEY_KINDS:
        return f"{parts[-2]}_KEY"
    return None


def credential_shape(value: Any) -> str | None:
    """What credential `value` looks like (`a URL with a password`, …), else None."""
    if not isinstance(value, str):
        return None
    return next((what for pattern, what in CREDENTIAL_SHAPES if pattern.search(value)), None)


class Hidden(str):
    """A value shown in a message only by its length: `(7 characters, hidden)`."""

    def __new__(cls, value: Any) -> Hidden:
        n = 0 if value is None else len(str(value))
        return super().__new__(cls, f"({n} character{'s' if n != 1 else ''}, hidden)")

    def __repr__(self) -> str:  # `show()` quotes strings with repr()
        return str(self)


def suggested_key(app: str, env: str) -> str:
    """The config key to hold `env`'s value for `app`, in the shipped stacks' style: apiDatabasePassword."""
    head, *rest = re.split(r"[^A-Za-z0-9]+", app) + [w.capitalize() for w in words(env)]
    return head.lower() + "".join(w[:1].upper() + w[1:] for w in rest if w)


def plain_secret_issues(apps: Mapping[Any, Any]) -> list[Issue]:
    """`apps.<name>.config|env.<KEY>` entries that hold a secret in plain text (see the module doc)."""
    issues = []
    for name, app in apps.items():
        for section, lands in SECTIONS.items():
            for key, value in _dict(_dict(app).get(section)).items():
                if isinstance(value, bool) or not isinstance(value, str | int | float):
                    continue  # not text: the type error says so (a number is a PIN: checked)
                if isinstance(value, str) and NOT_SECRET.match(value):
                    continue
                shape, word = credential_shape(value), secret_word(str(key))
                if not (shape or word):
                    continue
                ref = suggested_key(str(name), str(key))
                why = f"holds {shape}" if shape else f"looks like a secret (its name ends in {word})"
                issues.append(
                    Issue(
                        f"apps.{name}.{section}.{key}",
                        Hidden(value),
                        f"{why}, written in plain text: it would sit in git, in {lands} and in CI logs",
                        f"move it to apps.{name}.secrets ({key}: {ref}) and run "
                        f"`pulumi config set --secret slipway:{ref} <value>` (and rotate it if it was committed)",
                    )
                )
    return issues


def secret_references(apps: Any) -> dict[str, list[str]]:
    """Config key → the `apps.<name>.secrets.<ENV>` paths naming it (well-formed names only)."""
    refs: dict[str, list[str]] = {}
    for name, app in _dict(apps).items():
        for env, ref in _dict(_dict(app).get("secrets")).items():
            if isinstance(ref, str) and CONFIG_KEY.match(ref):
                refs.setdefault(ref, []).append(f"apps.{name}.secrets.{env}")
    return refs


def secret_key_issue(
    where: str, ref: str, context: Mapping[str, Any], *, also: Iterable[str] = (), candidates: Iterable[str] = ()
) -> Issue | None:
    """What is wrong with `ref`, a `slipway:` key that must hold a secret, named at `where`; None when it is fine.

    Not set: the key and the command to set it (did you mean one of `candidates`?). Set
    in plain text: the command to re-set it. The key's name is shown (a name is not a
    secret) unless it is shaped like a credential: then a value was written in its place.
    `also` are other places naming the same key; needs `config_keys` in the context.
    """
    keys, secret_keys = context.get("config_keys"), context.get("secret_keys") or set()
    if keys is None or (ref in keys and ref in secret_keys):
        return None
    others = list(also)
    named = f" (also named by {', '.join(others)})" if others else ""
    command = f"`pulumi config set --secret slipway:{ref} <value>`"
    if credential_shape(ref):
        fix = "run `pulumi config set --secret slipway:<key> <value>` and write the key here"
        return Issue(where, Hidden(ref), "is a secret's value where its config key's name belongs", fix)
    if ref not in keys:
        guess = difflib.get_close_matches(ref, sorted(set(candidates) - {ref}), n=1)
        hint = f"did you mean {guess[0]!r}? Or run {command}" if guess else f"run {command}"
        return Issue(where, ref, f"names slipway:{ref}, which is not set{named}", hint)
    fix = f"re-set it with {command} (and rotate it: it is in your repository's history)"
    return Issue(where, ref, f"names slipway:{ref}, which is stored in plain text{named}", fix)


def secret_reference_issues(apps: Any, context: Mapping[str, Any], candidates: Iterable[str] = ()) -> list[Issue]:
    """One issue per config key that app secrets name but that is not set, or not set as a
    secret, at the first path naming it (`secret_key_issue`)."""
    issues = []
    for ref, paths in secret_references(apps).items():
        issue = secret_key_issue(paths[0], ref, context, also=paths[1:], candidates=candidates)
        issues += [issue] if issue else []
    return issues
