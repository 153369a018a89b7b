"""``flask lms verify-credential`` with database keys and offline with a key file."""

import json

import pytest
import sqlalchemy as sa

from certificates import keys, services
from certificates.cli import keys_from_controller_document
from certificates.models import Certificate
from lms import create_app
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.certificates.builders import (
    issue,
    make_institution,
    make_programme,
    make_user,
)


@pytest.fixture
def world(app_ctx, tmp_path):
    """A certificate of c1, its credential file and the issuer's controller document."""
    institution = make_institution()
    holder = make_user(institution, "c1", full_name="欧阳明辉")
    make_user(institution, "hr1", Role.HR)
    cert = issue(holder, make_programme(institution))
    db.session.commit()
    credential_file = tmp_path / "credential.json"
    credential_file.write_text(cert.credential_json, encoding="utf-8")
    key_file = tmp_path / "issuer.json"
    key_file.write_text(
        json.dumps(keys.controller_document(institution), ensure_ascii=False),
        encoding="utf-8",
    )
    tampered = tmp_path / "tampered.json"
    tampered.write_text(
        cert.credential_json.replace("欧阳明辉", "欧阳明晖", 1), encoding="utf-8"
    )
    return {
        "cert_id": cert.id,
        "serial": cert.serial,
        "code": services.format_code(cert.verification_code),
        "credential": credential_file,
        "tampered": tampered,
        "key_file": key_file,
    }


def run(app, *args):
    """Invoke the command in ``app``'s own context.

    ``with_appcontext`` reuses whatever app context is active, so the
    command would otherwise run against the app of the ``world`` fixture.
    """
    with app.app_context():
        return app.test_cli_runner().invoke(
            args=["lms", "verify-credential", *args]
        )


def test_cli_good_file(app, world):
    result = run(app, str(world["credential"]))

    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: the signature is valid")
    assert "树人示范大学" in result.output
    assert "欧阳明辉" in result.output
    assert "初级辅导员岗位培训" in result.output
    assert world["code"] in result.output
    assert "status:" in result.output
    assert "valid" in result.output.splitlines()[-1]


def test_cli_tampered_file(app, world):
    result = run(app, str(world["tampered"]))

    assert result.exit_code == 1
    assert result.output.startswith("invalid (invalid_signature)")


def test_cli_revoked_still_verifies(app, world):
    cert = db.session.get(Certificate, world["cert_id"])
    hr = db.session.scalar(sa.select(User).filter_by(username="hr1"))
    services.revoke(cert, "重复发放", hr)
    db.session.commit()

    result = run(app, str(world["credential"]))

    assert result.exit_code == 0
    assert "revoked on" in result.output.splitlines()[-1]
    assert "重复发放" in result.output


def test_cli_unknown_key_without_database_key(app, world):
    db.session.execute(sa.delete(keys.IssuerKey))
    db.session.commit()

    result = run(app, str(world["credential"]))

    assert result.exit_code == 1
    assert result.output.startswith("invalid (unknown_key)")


def test_cli_bad_json(app, world, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")

    result = run(app, str(broken))

    assert result.exit_code == 2
    assert "FILE" in result.output
    assert "not valid JSON" in result.output


def test_cli_offline_needs_key_file(app, world):
    result = run(app, "--offline", str(world["credential"]))

    assert result.exit_code == 2
    assert "--offline needs --key-file" in result.output


@pytest.fixture
def app_without_database(tmp_path):
    """An app whose database file cannot be opened: any query fails."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
            "PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )


def test_cli_offline_with_key_file(world, app_without_database):
    good = run(
        app_without_database,
        "--offline",
        "--key-file",
        str(world["key_file"]),
        str(world["credential"]),
    )
    bad = run(
        app_without_database,
        "--offline",
        "--key-file",
        str(world["key_file"]),
        str(world["tampered"]),
    )

    assert good.exit_code == 0, good.output
    assert good.output.startswith("ok: the signature is valid")
    assert "status:" not in good.output
    assert bad.exit_code == 1
    assert bad.output.startswith("invalid (invalid_signature)")


def test_cli_database_unavailable_message(world, app_without_database):
    result = run(app_without_database, str(world["credential"]))

    assert result.exit_code == 1
    assert "cannot read the issuer keys from the database" in result.output
    assert "--offline --key-file" in result.output


def test_cli_offline_after_rotation(app, world):
    institution = db.session.get(Certificate, world["cert_id"]).institution
    keys.rotate_key(institution)
    db.session.commit()
    world["key_file"].write_text(
        json.dumps(keys.controller_document(institution)), encoding="utf-8"
    )

    result = run(
        app, "--offline", "--key-file", str(world["key_file"]), str(world["credential"])
    )

    assert result.exit_code == 0, result.output
    assert "#key-1" in result.output


def test_cli_key_file_of_other_issuer(app, world, tmp_path):
    other = make_institution("uni-b", "第二示范大学", prefix="DE")
    keys.active_key(other)
    db.session.commit()
    other_file = tmp_path / "other.json"
    other_file.write_text(json.dumps(keys.controller_document(other)), encoding="utf-8")

    result = run(app, "--offline", "--key-file", str(other_file), str(world["credential"]))

    assert result.exit_code == 1
    assert result.output.startswith("invalid (unknown_key)")


def test_cli_key_file_without_keys(app, world, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"id": "http://127.0.0.1:5000/issuers/uni-a"}', encoding="utf-8")

    result = run(app, "--offline", "--key-file", str(empty), str(world["credential"]))

    assert result.exit_code == 2
    assert "--key-file" in result.output
    assert "lists no Multikey under assertionMethod" in result.output


def test_key_file_needs_assertion_method():
    method = {
        "id": "https://x.example/issuers/a#key-1",
        "type": "Multikey",
        "controller": "https://x.example/issuers/a",
        "publicKeyMultibase": "z6Mk",
    }
    listed = {
        "id": "https://x.example/issuers/a",
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }
    unlisted = {**listed, "assertionMethod": []}
    foreign = {**listed, "id": "https://x.example/issuers/b"}

    assert keys_from_controller_document(listed) == {method["id"]: "z6Mk"}
    with pytest.raises(ValueError):
        keys_from_controller_document(unlisted)
    with pytest.raises(ValueError):
        keys_from_controller_document(foreign)
