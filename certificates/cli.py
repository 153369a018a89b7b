"""``flask lms verify-credential``: check a signed credential file.

By default the public keys come from this platform's database, active and
retired. ``--key-file`` takes an issuer's controller document, as served at
``/issuers/<code>``, so a third party can verify without database access;
``--offline`` then guarantees that the database is not read. Output is in
English, like the other ``flask lms`` commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from certificates.badges import read_facts
from certificates.credentials import check_open_badge, loads_credential
from certificates.signing import ResolvedKey, VerificationResult, resolve_did_key
from lms.cli import lms_cli

#: Largest credential or key file read, like the upload limit of the web page.
MAX_FILE_BYTES = 256 * 1024


def _read_json(path: Path, option: str) -> dict:
    """Read a JSON object from ``path``; raise BadParameter naming ``option``."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror}", param_hint=option
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise click.BadParameter(
            f"{path} is larger than {MAX_FILE_BYTES // 1024} KB", param_hint=option
        )
    try:
        return loads_credential(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise click.BadParameter(f"{path} is not UTF-8 text", param_hint=option) from None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}",
            param_hint=option,
        ) from None
    except (ValueError, RecursionError) as exc:
        raise click.BadParameter(
            f"{path} is not a JSON object: {exc}", param_hint=option
        ) from None


def keys_from_controller_document(document: dict) -> dict[str, str]:
    """Return ``{verification method id: publicKeyMultibase}`` of a controller document.

    Only Multikey methods that the document's own ``id`` controls and that
    it lists under ``assertionMethod`` (by id or embedded) are returned,
    because only those may sign credentials for that issuer. Raises
    ValueError when the document has no such key.
    """
    controller = document.get("id")
    if not isinstance(controller, str) or not controller:
        raise ValueError("the controller document has no id")
    listed = set()
    methods = []
    for entry in document.get("assertionMethod") or []:
        if isinstance(entry, str):
            listed.add(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
            listed.add(entry["id"])
            methods.append(entry)
    verification_methods = document.get("verificationMethod")
    if isinstance(verification_methods, list):
        methods.extend(verification_methods)
    found = {}
    for method in methods:
        if not isinstance(method, dict):
            continue
        key_id = method.get("id")
        multibase = method.get("publicKeyMultibase")
        if (
            key_id in listed
            and method.get("type") == "Multikey"
            and method.get("controller") == controller
            and isinstance(multibase, str)
        ):
            found[key_id] = multibase
    if not found:
        raise ValueError(
            f"the controller document {controller} lists no Multikey under "
            "assertionMethod"
        )
    return found


def _resolver(
    file_keys: dict[str, str], use_database: bool
) -> Callable[[str], ResolvedKey]:
    def resolve(verification_method: str) -> ResolvedKey:
        if verification_method in file_keys:
            return file_keys[verification_method]
        if use_database:
            from certificates import keys

            found = keys.resolve_public_key(verification_method)
            if found is not None:
                return found
        return resolve_did_key(verification_method)

    return resolve


def _database_status(credential_key: Optional[str], issuer_id: Optional[str]) -> str:
    """Return the certificate's current status in this platform's database."""
    from certificates import services

    institution = services.issuer_institution(issuer_id)
    cert = services.find_by_credential_key(credential_key)
    if cert is None or institution is None or cert.institution_id != institution.id:
        return "no record in this database"
    status = services.status_of(cert)
    if status is services.DisplayStatus.REVOKED:
        return f"revoked on {services.revoked_on(cert)}: {cert.revoked_reason}"
    return status.value


def _echo_verdict(result: VerificationResult, credential: dict) -> None:
    facts = read_facts(result.document if result.ok else credential)
    if result.ok:
        click.echo("ok: the signature is valid")
    else:
        click.echo(f"invalid ({result.code}): {result.reason}")
    label = "" if result.ok else " (unverified)"
    rows = [
        ("issuer", facts.issuer_name and f"{facts.issuer_name} <{facts.issuer_id}>"),
        ("holder", facts.holder_name),
        ("achievement", facts.achievement_name),
        ("hours", facts.hours),
        ("issued on", facts.issued_on and facts.issued_on.isoformat()),
        ("valid through", facts.valid_through and facts.valid_through.isoformat()),
        ("credential", facts.credential_key),
        ("key", result.verification_method),
    ]
    for name, value in rows:
        click.echo(f"{name + label + ':':<26} {value or '-'}")


@click.command("verify-credential")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=(
        "Controller document JSON of the issuer, as served at /issuers/<code>; "
        "its keys are tried before the database's."
    ),
)
@click.option(
    "--offline",
    is_flag=True,
    help=(
        "Do not read the database: keys come from --key-file (or did:key ids) "
        "only, and the certificate's current status is not shown."
    ),
)
@with_appcontext
def verify_credential_command(
    file: Path, key_file: Optional[Path], offline: bool
) -> None:
    """Verify the signature of the credential in FILE.

    Prints the verdict, issuer, holder, achievement and serial. Exits with
    status 0 only when the signature is valid, 1 when it is not or the
    database cannot be read, and 2 for an unreadable or invalid input file.
    """
    if offline and key_file is None:
        raise click.UsageError(
            "--offline needs --key-file: download the issuer's keys from "
            "/issuers/<code> and pass that file"
        )
    credential = _read_json(file, "FILE")
    file_keys: dict[str, str] = {}
    if key_file is not None:
        try:
            file_keys = keys_from_controller_document(
                _read_json(key_file, "--key-file")
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--key-file") from None

    try:
        result = check_open_badge(credential, _resolver(file_keys, not offline))
        _echo_verdict(result, credential)
        if result.ok and not offline:
            facts = read_facts(result.document)
            status = _database_status(facts.credential_key, facts.issuer_id)
            click.echo(f"{'status:':<26} {status}")
    except RecursionError:
        result = VerificationResult(
            False, "malformed", "credential nests JSON too deeply to verify"
        )
        _echo_verdict(result, credential)
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot read the issuer keys from the database ({exc.__class__.__name__}); "
            "verify with --offline --key-file instead"
        ) from None
    if not result.ok:
        raise SystemExit(1)


@click.command("seed-certificate-templates")
@with_appcontext
def seed_templates_command() -> None:
    """Create the default certificate templates where missing, and update unedited ones.

    Runs for every institution and can be repeated. A built-in template that
    no one has edited gets a new version with the current built-in layout;
    templates an author has saved are left unchanged.
    """
    from certificates.template_services import (
        ensure_default_templates,
        refresh_builtin_layouts,
    )
    from lms.extensions import db
    from lms.organisations.models import Institution

    institutions = db.session.scalars(sa.select(Institution).order_by(Institution.code))
    for institution in institutions:
        found = ensure_default_templates(institution)
        refreshed = refresh_builtin_layouts(institution)
        line = f"{institution.code}: {', '.join(sorted(found))}"
        if refreshed:
            line += f"; updated to the current layout: {', '.join(t.code for t in refreshed)}"
        click.echo(line)
    db.session.commit()


def register(app: Flask) -> None:
    """Add ``verify-credential`` and ``seed-certificate-templates`` to ``flask lms``."""
    lms_cli.add_command(verify_credential_command)
    lms_cli.add_command(seed_templates_command)
