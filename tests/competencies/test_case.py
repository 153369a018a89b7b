"""CASE 1.0 JSON export and import: structure, round trip and bad packages."""

import copy
import io
import json

import pytest
import sqlalchemy as sa

from lms.competencies import case, case_import, services, transfer
from lms.competencies.models import AreaMapping, Framework, MappingRelation
from lms.extensions import db
from tests.competencies.helpers import area, framework, make_draft, snapshot, user

BASE = "http://127.0.0.1:5000"


def _package(fw: Framework) -> dict:
    return json.loads(case.export_json(fw, BASE))


def _problems(package) -> list[transfer.Problem]:
    content = package if isinstance(package, bytes) else json.dumps(package).encode()
    with pytest.raises(transfer.ImportRejected) as caught:
        data = case_import.parse_package(content)
        problems = transfer.validate(data)
        if problems:
            raise transfer.ImportRejected(problems)
    return caught.value.problems


def _draft_with_mapping():
    trainer = user("trainer")
    draft = make_draft(trainer)
    services.add_mapping(
        draft.areas[0], area("counselor-duties-2017", "mental_health"), MappingRelation.CLOSE_MATCH, None, trainer
    )
    services.add_mapping(
        draft.areas[1], area("counselor-duties-2017", "online"), MappingRelation.EXACT_MATCH, None, trainer
    )
    return draft


def _mapping_view(fw: Framework) -> set:
    return {
        (m.identifier, m.source.identifier, m.target.identifier, m.relation)
        for m in services.mappings_of(fw)
    }


def test_export_structure(app_ctx, seeded):
    fw = framework("counselor-2014")

    package = _package(fw)

    assert package["CFDocument"]["identifier"] == fw.identifier
    assert package["CFDocument"]["adoptionStatus"] == "Adopted"
    types = [item["CFItemType"] for item in package["CFItems"]]
    assert types.count("Level") == 3
    assert types.count("FunctionalArea") == 9
    assert types.count("Competency") == 27
    item_ids = {item["identifier"] for item in package["CFItems"]}
    assert {it.identifier for it in fw.items} <= item_ids
    kinds = [a["associationType"] for a in package["CFAssociations"]]
    assert kinds.count("hasSkillLevel") == 27
    assert kinds.count("exactMatchOf") == 7
    assert kinds.count("isRelatedTo") == 2


def test_close_match_uses_grouping(app_ctx, seeded):
    package = _package(framework("counselor-2014"))

    related = [a for a in package["CFAssociations"] if a["associationType"] == "isRelatedTo"]

    assert all(a["CFAssociationGroupingURI"]["identifier"] == case.CLOSE_MATCH_GROUPING for a in related)
    groupings = package["CFDefinitions"]["CFAssociationGroupings"]
    assert groupings[0]["title"] == "closeMatch"


def test_export_is_stable(app_ctx, seeded):
    fw = framework("counselor-2014")

    assert case.export_json(fw, BASE) == case.export_json(fw, BASE)


def test_case_round_trip(app_ctx, seeded):
    draft = _draft_with_mapping()
    before = snapshot(draft)
    identifiers = (draft.identifier, [lv.identifier for lv in draft.levels], [it.identifier for it in draft.items])
    years = [(lv.min_years, lv.max_years) for lv in draft.levels]
    mappings = _mapping_view(draft)
    exported = case.export_json(draft, BASE)
    services.delete_framework(draft, user("trainer"))

    copy_ = transfer.write(case_import.parse_package(exported), user("trainer"))

    assert snapshot(copy_) == before
    assert (copy_.identifier, [lv.identifier for lv in copy_.levels], [it.identifier for it in copy_.items]) == identifiers
    assert [(lv.min_years, lv.max_years) for lv in copy_.levels] == years
    assert (copy_.code, copy_.title, copy_.issuer, copy_.year) == ("demo-fw", "演示框架", "示范大学", 2026)
    assert _mapping_view(copy_) == mappings


def test_case_round_trip_through_views(app, seeded, login):
    with app.app_context():
        draft = _draft_with_mapping()
        db.session.commit()
        draft_id, before = draft.id, snapshot(draft)
    trainer = login("trainer")
    exported = trainer.get(f"/frameworks/{draft_id}/export.json")
    assert trainer.post(f"/frameworks/{draft_id}/delete").status_code == 302

    preview = trainer.post(
        "/frameworks/import",
        data={"file_format": "case", "upload": (io.BytesIO(exported.get_data()), "demo.case.json")},
        content_type="multipart/form-data",
    )
    confirm = trainer.post("/frameworks/import/confirm")

    assert exported.headers["Content-Type"].startswith("application/json")
    assert preview.status_code == 200
    assert confirm.status_code == 302
    with app.app_context():
        assert snapshot(framework("demo-fw")) == before


def test_reimport_of_existing_framework_rejected(app_ctx, seeded, english):
    package = _package(framework("counselor-2014"))

    problems = _problems(package)

    assert {(p.location, p.field) for p in problems} == {
        ("$.CFDocument", "identifier"),
        ("$.CFDocument", "code"),
    }
    assert len(problems) == 2
    assert "enter a code that no framework uses" in str(problems[1])


def test_import_under_new_code_is_copy(app_ctx, seeded):
    original = framework("counselor-2014")
    exported = case.export_json(original, BASE)
    before = snapshot(original)
    years = [(lv.min_years, lv.max_years) for lv in original.levels]
    old_ids = {original.identifier}
    old_ids |= {row.identifier for row in (*original.levels, *original.areas, *original.items)}
    mapped = {(m.target.identifier, m.relation) for m in services.mappings_of(original)}

    data = case_import.parse_package(exported, {"code": "my-2014"})
    problems = transfer.validate(data)
    copy_ = transfer.write(data, user("trainer"))

    assert problems == []
    assert data.is_copy
    assert copy_.code == "my-2014"
    assert copy_.institution_id == user("trainer").institution_id
    assert snapshot(copy_) == before
    assert [(lv.min_years, lv.max_years) for lv in copy_.levels] == years
    new_ids = {copy_.identifier}
    new_ids |= {row.identifier for row in (*copy_.levels, *copy_.areas, *copy_.items)}
    assert len(new_ids) == 1 + 3 + 9 + 27
    assert not new_ids & old_ids
    assert {(m.target.identifier, m.relation) for m in services.mappings_of(copy_)} == mapped
    assert all(m.source.framework_id == copy_.id for m in services.mappings_of(copy_))


def test_copy_imported_twice_rejected(app_ctx, seeded):
    exported = case.export_json(framework("counselor-2014"), BASE)
    transfer.write(case_import.parse_package(exported, {"code": "my-2014"}), user("trainer"))

    data = case_import.parse_package(exported, {"code": "my-2014"})
    problems = transfer.validate(data)

    assert {p.field for p in problems} == {"code", "identifier"}
    assert not data.is_copy


def test_copy_of_national_framework_through_views(app, seeded, login):
    with app.app_context():
        national_id = framework("counselor-2014").id
    trainer = login("trainer")
    exported = trainer.get(f"/frameworks/{national_id}/export.json")

    preview = trainer.post(
        "/frameworks/import",
        data={
            "file_format": "case",
            "code": "my-2014",
            "upload": (io.BytesIO(exported.get_data()), "national.case.json"),
        },
        content_type="multipart/form-data",
    )
    # The test client spools a body over 500 KB to a temporary file that it
    # does not close.
    preview.request.environ["wsgi.input"].close()
    confirm = trainer.post("/frameworks/import/confirm")

    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert 'id="import-copy"' in preview.get_data(as_text=True)
    assert confirm.status_code == 302
    with app.app_context():
        copy_ = framework("my-2014")
        assert copy_ is not None
        assert copy_.identifier != framework("counselor-2014").identifier
        assert len(copy_.items) == 27


def test_mapping_to_unknown_area_skipped(app_ctx, seeded):
    draft = _draft_with_mapping()
    package = _package(draft)
    services.delete_framework(draft, user("trainer"))
    target = area("counselor-duties-2017", "online").identifier
    for association in package["CFAssociations"]:
        if association["destinationNodeURI"]["identifier"] == target:
            association["destinationNodeURI"]["identifier"] = "00000000-0000-4000-8000-000000000000"

    data = case_import.parse_package(json.dumps(package).encode())
    copy_ = transfer.write(data, user("trainer"))

    assert data.skipped_mappings == ["00000000-0000-4000-8000-000000000000"]
    assert len(services.mappings_of(copy_)) == 1


@pytest.fixture
def good_package(app_ctx, seeded):
    draft = make_draft(user("trainer"))
    package = _package(draft)
    services.delete_framework(draft, user("trainer"))
    return package


def _index_of(package: dict, item_type: str) -> int:
    return next(i for i, item in enumerate(package["CFItems"]) if item["CFItemType"] == item_type)


def test_invalid_json_rejected(app_ctx):
    problems = _problems(b'{"CFDocument": ')

    assert [(p.location, p.field) for p in problems] == [("$", "JSON")]


def test_non_utf8_rejected(app_ctx):
    problems = _problems("{}".encode("utf-16"))

    assert problems[0].location == "$"


def test_root_must_be_object(app_ctx):
    assert [(p.location, p.field) for p in _problems([1, 2])] == [("$", "CFPackage")]


def test_missing_document_rejected(app_ctx):
    assert [(p.location, p.field) for p in _problems({"CFItems": []})] == [("$", "CFDocument")]


def test_missing_title_named(good_package):
    del good_package["CFDocument"]["title"]

    assert ("$.CFDocument", "title") in {(p.location, p.field) for p in _problems(good_package)}


def test_bad_identifier_named(good_package):
    index = _index_of(good_package, "Competency")
    good_package["CFItems"][index]["identifier"] = "not-a-uuid"

    locations = {(p.location, p.field) for p in _problems(good_package)}

    assert (f"$.CFItems[{index}]", "identifier") in locations


def test_unknown_item_type_named(good_package):
    good_package["CFItems"][0]["CFItemType"] = "Standard"

    assert ("$.CFItems[0]", "CFItemType") in {(p.location, p.field) for p in _problems(good_package)}


def test_item_without_statement_named(good_package):
    index = _index_of(good_package, "Competency")
    good_package["CFItems"][index]["fullStatement"] = 42

    assert (f"$.CFItems[{index}]", "fullStatement") in {(p.location, p.field) for p in _problems(good_package)}


def test_duplicate_identifier_named(good_package):
    good_package["CFItems"].append(copy.deepcopy(good_package["CFItems"][0]))
    last = len(good_package["CFItems"]) - 1

    assert (f"$.CFItems[{last}]", "identifier") in {(p.location, p.field) for p in _problems(good_package)}


def test_unsupported_association_named(good_package):
    good_package["CFAssociations"][0]["associationType"] = "precedes"

    assert ("$.CFAssociations[0]", "associationType") in {(p.location, p.field) for p in _problems(good_package)}


def test_association_without_origin_named(good_package):
    del good_package["CFAssociations"][0]["originNodeURI"]

    assert ("$.CFAssociations[0]", "originNodeURI") in {(p.location, p.field) for p in _problems(good_package)}


def test_item_without_area_named(good_package):
    index = _index_of(good_package, "Competency")
    identifier = good_package["CFItems"][index]["identifier"]
    good_package["CFAssociations"] = [
        a
        for a in good_package["CFAssociations"]
        if not (a["originNodeURI"]["identifier"] == identifier and a["associationType"] == "isChildOf")
    ]

    assert (f"$.CFItems[{index}]", "isChildOf") in {(p.location, p.field) for p in _problems(good_package)}


def test_skill_level_must_be_level_named(good_package):
    position, association = next(
        (i, a) for i, a in enumerate(good_package["CFAssociations"]) if a["associationType"] == "hasSkillLevel"
    )
    association["destinationNodeURI"]["identifier"] = good_package["CFDocument"]["identifier"]

    assert (f"$.CFAssociations[{position}]", "destinationNodeURI") in {
        (p.location, p.field) for p in _problems(good_package)
    }


def test_bad_list_enumeration_named(good_package):
    good_package["CFItems"][0]["listEnumeration"] = "first"

    assert ("$.CFItems[0]", "listEnumeration") in {(p.location, p.field) for p in _problems(good_package)}


def test_mapping_outside_framework_named(good_package, app_ctx):
    one = area("counselor-2014", "online").identifier
    two = area("counselor-duties-2017", "online").identifier
    good_package["CFAssociations"].append(
        {"associationType": "exactMatchOf", "originNodeURI": {"identifier": one}, "destinationNodeURI": {"identifier": two}}
    )
    last = len(good_package["CFAssociations"]) - 1

    assert (f"$.CFAssociations[{last}]", "originNodeURI") in {(p.location, p.field) for p in _problems(good_package)}


def test_bad_package_writes_nothing(app, seeded, login):
    with app.app_context():
        package = _package(framework("counselor-2014"))
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Framework))
        mappings = db.session.scalar(sa.select(sa.func.count()).select_from(AreaMapping))
    package["CFDocument"]["extensions"]["code"] = "fresh-code"
    del package["CFItems"][0]["fullStatement"]

    response = login("trainer").post(
        "/frameworks/import",
        data={"file_format": "case", "upload": (io.BytesIO(json.dumps(package).encode()), "x.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "$.CFItems[0]" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == count
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AreaMapping)) == mappings


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"[]",
        b'{"CFDocument": [], "CFItems": {}}',
        b'{"CFDocument": {"identifier": 5, "title": ["x"]}, "CFItems": [null, 3, "x"], "CFAssociations": [1]}',
        b"[" * 100000,
        "{\"CFDocument\": {\"title\": \"\u6807\u9898\"}}".encode("gbk"),
    ],
)
def test_garbage_json_gives_clean_error(app, seeded, login, content):
    response = login("trainer").post(
        "/frameworks/import",
        data={"file_format": "case", "upload": (io.BytesIO(content), "x.json")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400


def test_upper_case_identifiers_accepted(good_package):
    text = json.dumps(good_package)
    for item in good_package["CFItems"]:
        text = text.replace(item["identifier"], item["identifier"].upper())

    data = case_import.parse_package(text.encode())

    assert {item.identifier for item in data.items} <= {
        item["identifier"] for item in good_package["CFItems"]
    }
    assert len(data.items) == 3


def _import_page(login, content: bytes) -> str:
    response = login("trainer").post(
        "/frameworks/import",
        data={"file_format": "case", "upload": (io.BytesIO(content), "x.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_bad_json_reason_in_chinese(app, seeded, login):
    page = _import_page(login, b"{bad")

    assert "此处应为带双引号的属性名" in page
    assert "Expecting property name" not in page


def test_bad_json_reason_in_english(app, seeded, login, english):
    page = _import_page(login, b"{bad")

    assert (
        "The file is not valid JSON: a property name in double quotes is expected "
        "at line 1, column 2."
    ) in page


def test_deep_json_reason_in_english(app, seeded, login, english):
    page = _import_page(login, b"[" * 100000)

    assert "The file nests JSON too deeply to be read." in page
