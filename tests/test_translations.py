"""Every user-facing string has a Chinese translation, and the UI defaults to it."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "stored_gettext": None,
    "stored_ngettext": (1, 2),
}
SOURCE_DIRS = ("lms", "courses", "assessments", "certificates", "templates")


def _source_messages() -> set[str]:
    found = set()
    for folder in SOURCE_DIRS:
        methods = [("**.html", "jinja2")] if folder == "templates" else [("**.py", "python")]
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, methods, keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_translated_to_chinese():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalogue
        if message.id and message.string and not message.fuzzy
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }

    missing = sorted(_source_messages() - translated)

    assert missing == [], "run scripts/update-translations and translate these"


def test_chinese_addresses_the_reader_politely():
    """The UI addresses people with 您 throughout, never the familiar 你."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    familiar = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any("你" in (text or "") for text in strings):
            familiar.append(message.id)

    assert not familiar, f"messages using 你: {familiar}"


def test_two_factor_has_one_chinese_name():
    """Pages say 双因素登录, so the audit log must not call it 双重验证 as well."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    other_names = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any("双重验证" in (text or "") or "第二重" in (text or "") for text in strings):
            other_names.append(message.id)

    assert not other_names, f"messages not using 双因素: {other_names}"


def test_institution_is_called_unit():
    """Pages call a university 单位, so the audit log does too."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    other_names = [
        message.id
        for message in catalogue
        if isinstance(message.id, str)
        and "institution" in message.id.lower()
        and "机构" in (message.string or "")
    ]

    assert not other_names, f"messages calling an institution 机构: {other_names}"


def test_pages_default_to_chinese(client):
    page = client.get("/login").get_data(as_text=True)

    assert 'lang="zh-CN"' in page
    assert "登录" in page


def test_browser_language_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})

    assert 'lang="en"' in page.get_data(as_text=True)
    assert "Log in" in page.get_data(as_text=True)


def test_login_prompt_is_chinese(client):
    page = client.get("/learning", follow_redirects=True).get_data(as_text=True)

    assert "请先登录" in page
    assert "Please log in" not in page


def test_english_messages_say_hours():
    """English text calls a 学时 "hours"; the Chinese catalogue says 学时."""
    mixed = sorted(message for message in _source_messages() if "学时" in message)

    assert mixed == [], "write hours in the English msgid"
