"""Validate question form values of every kind and write them onto a Question.

The form sends ``kind``, ``text``, ``points``, ``scoring``, ``explanation``,
choice rows ``choice_N`` / ``correct_N`` / ``match_N``, and per kind:

* ``blanks``: one line per blank, accepted answers separated by ``|``
* ``feedback_N``: the feedback a learner who picks choice N sees in the review
* ``accepted``: one short answer per line, ``answer [| percent [| feedback]]``;
  ``value ± tolerance`` or ``minimum .. maximum`` accepts any number in range
* ``scoring_points``: one essay scoring point per line, ``points | description``
* ``tags_functional_area``, ``tags_level``, ``tags_topic``: comma-separated tags
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import ngettext

from assessments.formats import BLANK, mark_blanks
from assessments.models import (
    FALSE_VALUE,
    TRUE_VALUE,
    Choice,
    ChoiceScoring,
    Question,
    QuestionKind,
    QuestionTag,
    TagKind,
)
from courses.authoring import text_field
from lms.labels import label
from lms.i18n import join_names

#: Choice rows shown on the question form.
CHOICE_SLOTS = 8
MAX_POINTS = Decimal("9999.9")
TAG_FIELDS = {
    TagKind.FUNCTIONAL_AREA: "tags_functional_area",
    TagKind.LEVEL: "tags_level",
    TagKind.TOPIC: "tags_topic",
}
#: Words a trainer or a file may write for each side of a true/false question.
TRUE_WORDS = {"true", "t", "对", "正确", "是", "√", "✓", "✔", "yes", "y"}
FALSE_WORDS = {"false", "f", "错", "错误", "否", "×", "✗", "✘", "no", "n"}
MAX_FEEDBACK = 2000
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
#: ``value ± tolerance`` (also ``+-`` and ``+/-``) in an accepted-answer line.
_TOLERANCE = re.compile(rf"^({_NUMBER})\s*(?:±|\+-|\+/-)\s*({_NUMBER})$")
#: ``minimum .. maximum`` in an accepted-answer line.
_INTERVAL = re.compile(rf"^({_NUMBER})\s*\.\.\s*({_NUMBER})$")
#: Kinds whose scoring the trainer chooses; the others are all or nothing.
SCORED_KINDS = (QuestionKind.MULTIPLE, QuestionKind.ORDERING)


def parse_points(raw: str, errors: dict, field: str = "points") -> Decimal | None:
    raw = str(raw or "").strip() or "1"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[field] = _("Points must be a number, e.g. 1 or 2.5.")
        return None
    if not value.is_finite() or value <= 0 or value > MAX_POINTS:
        errors[field] = _("Points must be greater than 0 and at most %(max)s.", max=MAX_POINTS)
        return None
    if value != value.quantize(Decimal("0.1")):
        errors[field] = _("Points can have one decimal place at most.")
        return None
    return value


def _kind(data: dict, errors: dict) -> QuestionKind | None:
    raw = (data.get("kind") or "").strip()
    for member in QuestionKind:
        if member.value == raw:
            return member
    errors["kind"] = _("Choose one of the listed values.")
    return None


def _scoring(data: dict, kind: QuestionKind | None, errors: dict) -> ChoiceScoring:
    if kind not in SCORED_KINDS:
        return ChoiceScoring.ALL_OR_NOTHING
    raw = (data.get("scoring") or "all_or_nothing").strip()
    for member in ChoiceScoring:
        if member.value == raw:
            if kind is QuestionKind.ORDERING and member is ChoiceScoring.PARTIAL_PENALTY:
                return ChoiceScoring.PARTIAL
            return member
    errors["scoring"] = _("Choose one of the listed values.")
    return ChoiceScoring.ALL_OR_NOTHING


def _rows(data: dict, errors: dict) -> tuple[list[tuple[str, bool, str]], list[str]]:
    """Return the filled choice rows and, in the same order, their feedback."""
    rows, feedback = [], []
    for slot in range(1, CHOICE_SLOTS + 1):
        text = (data.get(f"choice_{slot}") or "").strip()
        correct = bool(data.get(f"correct_{slot}"))
        match = (data.get(f"match_{slot}") or "").strip()
        note = (data.get(f"feedback_{slot}") or "").strip()
        if not text and not match:
            if correct or note:
                errors[f"choice_{slot}"] = _(
                    "A choice marked correct or with feedback needs a text."
                )
            continue
        if len(text) > 500 or len(match) > 500:
            errors[f"choice_{slot}"] = _("Enter at most %(max)d characters.", max=500)
        if len(note) > MAX_FEEDBACK:
            errors[f"choice_{slot}"] = _(
                "Feedback: enter at most %(max)d characters.", max=MAX_FEEDBACK
            )
        rows.append((text, correct, match))
        feedback.append(note)
    return rows, feedback


def _true_false_defaults(data: dict) -> dict:
    """Fill choice 1 with true and choice 2 with false when no choice has a text."""
    slots = range(1, CHOICE_SLOTS + 1)
    if any((data.get(f"choice_{slot}") or "").strip() for slot in slots):
        return data
    return {**data, "choice_1": TRUE_VALUE, "choice_2": FALSE_VALUE}


def true_false_value(text: str) -> str:
    """Store a known true or false word as data, and any other label as written."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    if folded in TRUE_WORDS:
        return TRUE_VALUE
    if folded in FALSE_WORDS:
        return FALSE_VALUE
    return text


def numeric_range(text: str) -> tuple[Decimal, Decimal] | None:
    """Read ``value ± tolerance`` or ``minimum .. maximum``; None for other text.

    Raises ValueError for a negative tolerance or a minimum above the maximum.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    tolerance = _TOLERANCE.match(folded)
    if tolerance:
        value, spread = Decimal(tolerance[1]), Decimal(tolerance[2])
        if spread < 0:
            raise ValueError("negative tolerance")
        return value - spread, value + spread
    interval = _INTERVAL.match(folded)
    if interval:
        low, high = Decimal(interval[1]), Decimal(interval[2])
        if low > high:
            raise ValueError("minimum above maximum")
        return low, high
    return None


def _check_choices(kind: QuestionKind, rows: list, errors: dict) -> None:
    if kind in (QuestionKind.MATCHING, QuestionKind.ORDERING):
        return
    if any(not text for text, _correct, _match in rows):
        errors["choices"] = _("Every choice needs a text.")
        return
    repeated = _repeated([text for text, _correct, _match in rows])
    if repeated:
        errors["choices"] = _(
            "The choice %(text)s appears more than once. Make each choice different.",
            text=repeated,
        )
        return
    correct_count = sum(1 for _text, correct, _match in rows if correct)
    if kind is QuestionKind.TRUE_FALSE:
        if len(rows) != 2:
            errors["choices"] = _("A true/false question needs exactly two choices.")
        elif correct_count != 1:
            errors["choices"] = _("A true/false question needs exactly one correct choice.")
    elif len(rows) < 2:
        errors["choices"] = _("Enter at least two choices.")
    elif kind is QuestionKind.SINGLE and correct_count != 1:
        errors["choices"] = _(
            "A single-choice question needs exactly one correct choice; %(count)d are marked.",
            count=correct_count,
        )
    elif kind is QuestionKind.MULTIPLE and correct_count < 1:
        errors["choices"] = _("A multiple-choice question needs at least one correct choice.")


def _check_matching(rows: list, errors: dict) -> None:
    pairs = [row for row in rows if row[0]]
    if any(text and not match for text, _correct, match in rows):
        errors["choices"] = _(
            "Every matching item needs its answer in the Match column;"
            " an answer without an item is kept as a distractor."
        )
    elif len(pairs) < 2:
        errors["choices"] = _("A matching question needs at least two pairs.")


def _check_ordering(rows: list, errors: dict) -> None:
    if len(rows) < 2 or any(not text for text, _correct, _match in rows):
        errors["choices"] = _("An ordering question needs at least two items, in their correct order.")
        return
    repeated = _repeated([text for text, _correct, _match in rows])
    if repeated:
        # Two equal items look the same to the learner, so either order is right.
        errors["choices"] = _(
            "The item %(text)s appears more than once. Make each item different.",
            text=repeated,
        )


def _repeated(texts: list[str]) -> str:
    """Return the first text that appears again, ignoring case and spacing, or ''."""
    seen: dict[str, str] = {}
    for text in texts:
        key = " ".join(text.split()).casefold()
        if key in seen:
            return seen[key]
        seen[key] = text
    return ""


def _blanks(data: dict, text: str, errors: dict) -> list[list[str]]:
    lines = [line.strip() for line in (data.get("blanks") or "").splitlines() if line.strip()]
    blanks = [[part.strip() for part in line.split("|") if part.strip()] for line in lines]
    expected = text.count(BLANK)
    if expected == 0:
        errors["text"] = _("Mark each blank in the question text with %(blank)s.", blank=BLANK)
    elif len(blanks) != expected:
        errors["blanks"] = _(
            "The text has %(expected)d blanks but %(count)d lines of answers; enter one line per blank.",
            expected=expected,
            count=len(blanks),
        )
    return blanks


def _accepted(data: dict, errors: dict) -> list[dict]:
    answers = []
    for number, line in enumerate((data.get("accepted") or "").splitlines(), start=1):
        if not line.strip():
            continue
        text, _sep, rest = line.partition("|")
        score, _sep, note = rest.partition("|")
        text, note = text.strip(), note.strip()
        try:
            percent = Decimal(score.strip() or "100")
        except InvalidOperation:
            percent = Decimal(-1)
        # A 0 percent line only carries feedback for a common wrong answer.
        in_range = percent.is_finite() and 0 <= percent <= 100 and (percent > 0 or note)
        if not text or not in_range:
            errors["accepted"] = _(
                "Line %(line)d: write an answer, optionally followed by | and a"
                " percentage from 1 to 100 (0 with feedback), then | and feedback.",
                line=number,
            )
            continue
        answer = {"text": text, "score": str(percent)}
        try:
            bounds = numeric_range(text)
        except ValueError:
            errors["accepted"] = _(
                "Line %(line)d: write a number range as value ± tolerance with a"
                " tolerance of 0 or more, or as minimum .. maximum with the smaller"
                " number first.",
                line=number,
            )
            continue
        if bounds is not None:
            answer["min"], answer["max"] = str(bounds[0]), str(bounds[1])
        if note:
            answer["feedback"] = note[:MAX_FEEDBACK]
        answers.append(answer)
    if not answers and "accepted" not in errors:
        errors["accepted"] = _("Enter at least one accepted answer.")
    elif answers and not any(Decimal(a["score"]) == 100 for a in answers):
        errors["accepted"] = _("At least one accepted answer must be worth 100 percent.")
    return answers


def _scoring_points(data: dict, points: Decimal | None, errors: dict) -> list[dict]:
    items = []
    bad_lines = []
    for number, line in enumerate((data.get("scoring_points") or "").splitlines(), start=1):
        if not line.strip():
            continue
        raw, _sep, text = line.partition("|")
        value = parse_points(raw, {}, "scoring_points") if raw.strip() else None
        if value is None or not text.strip():
            bad_lines.append(str(number))
            continue
        items.append({"text": text.strip(), "max": str(value)})
    if bad_lines:
        errors["scoring_points"] = ngettext(
            "Line %(lines)s: write the points, then | and what earns them, e.g. 2 | names the policy.",
            "Lines %(lines)s: write the points, then | and what earns them, e.g. 2 | names the policy.",
            len(bad_lines),
            lines=join_names(bad_lines),
        )
    total = sum((Decimal(item["max"]) for item in items), Decimal(0))
    if items and points is not None and total != points and "scoring_points" not in errors:
        errors["scoring_points"] = _(
            "The scoring points add up to %(total)s but the question is worth %(points)s.",
            total=total,
            points=points,
        )
    return items


def _tags(data: dict, errors: dict) -> list[tuple[TagKind, str]]:
    tags = []
    for kind, field in TAG_FIELDS.items():
        raw = (data.get(field) or "").replace("，", ",")
        for value in raw.split(","):
            value = value.strip()
            if len(value) > 100:
                errors[field] = _("Enter at most %(max)d characters.", max=100)
            elif value and (kind, value) not in tags:
                tags.append((kind, value))
    return tags


def validate(data: dict) -> tuple[dict, dict]:
    """Return the cleaned question fields and the errors by field name."""
    errors: dict[str, str] = {}
    kind = _kind(data, errors)
    text = text_field(data, "text", errors, max_length=5000)
    points = parse_points(data.get("points"), errors)
    explanation = text_field(data, "explanation", errors, max_length=5000, required=False)
    if kind is QuestionKind.TRUE_FALSE:
        data = _true_false_defaults(data)
    rows, feedback = _rows(data, errors)
    answer_key: dict = {}
    if kind is QuestionKind.TRUE_FALSE:
        rows = [(true_false_value(text), correct, match) for text, correct, match in rows]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE):
        _check_choices(kind, rows, errors)
    elif kind is QuestionKind.MATCHING:
        _check_matching(rows, errors)
    elif kind is QuestionKind.ORDERING:
        _check_ordering(rows, errors)
    else:
        rows, feedback = [], []
    if kind is QuestionKind.FILL_BLANK:
        text = mark_blanks(text)
        answer_key = {"blanks": _blanks(data, text, errors)}
    elif kind is QuestionKind.SHORT_ANSWER:
        answer_key = {"answers": _accepted(data, errors)}
    elif kind is QuestionKind.ESSAY:
        answer_key = {"points": _scoring_points(data, points, errors)}
    fields = {
        "kind": kind,
        "text": text,
        "points": points,
        "explanation": explanation,
        "scoring": _scoring(data, kind, errors),
        "answer_key": answer_key,
        "rows": rows,
        "feedback": feedback,
        "tags": _tags(data, errors),
    }
    return fields, errors


def apply(question: Question, fields: dict) -> None:
    """Write validated fields onto ``question``, replacing its choices and tags."""
    question.kind = fields["kind"]
    question.text = fields["text"]
    question.points = fields["points"]
    question.explanation = fields["explanation"]
    question.scoring = fields["scoring"]
    question.answer_key = fields["answer_key"]
    question.choices.clear()
    question.tags.clear()
    from lms.extensions import db

    db.session.flush()
    feedback = fields.get("feedback") or []
    for position, (text, correct, match) in enumerate(fields["rows"], start=1):
        note = feedback[position - 1] if position <= len(feedback) else ""
        question.choices.append(
            Choice(
                position=position,
                text=text,
                is_correct=correct,
                match_text=match or None,
                feedback=note,
            )
        )
    for kind, value in fields["tags"]:
        question.tags.append(QuestionTag(kind=kind, value=value))


def field_labels() -> dict:
    """Label of each field of the question form, by field name."""
    labels = {
        "kind": (_("Kind"), lambda value: label(value, "question_kind")),
        "text": _("Question text"),
        "points": _("Points"),
        "scoring": _("Scoring (multiple choice and ordering)"),
    }
    for slot in range(1, CHOICE_SLOTS + 1):
        choice = _("Choice %(number)d", number=slot)
        labels[f"choice_{slot}"] = choice
        labels[f"correct_{slot}"] = (f"{choice} · {_('Correct')}", _checked)
        labels[f"match_{slot}"] = f"{choice} · {_('Match')}"
    labels.update(
        blanks=_("Accepted answers per blank (fill in the blanks)"),
        accepted=_("Accepted answers (short answer)"),
        scoring_points=_("Scoring points (essay)"),
        tags_functional_area=_("Functional area tags"),
        tags_level=_("Level tags"),
        tags_topic=_("Topic tags"),
        explanation=_("Explanation shown in the review"),
    )
    return labels


def _checked(value) -> str:
    return _("Yes") if value else _("No")


def form_values(question: Question) -> dict:
    """Return the form values that show ``question`` for editing."""
    values = {
        "kind": question.kind.value,
        "text": question.text,
        "points": question.points,
        "explanation": question.explanation,
        "scoring": question.scoring.value,
        "blanks": "\n".join(" | ".join(b) for b in question.answer_key.get("blanks") or []),
        "accepted": "\n".join(
            accepted_line(a) for a in question.answer_key.get("answers") or []
        ),
        "scoring_points": "\n".join(
            f"{p['max']} | {p['text']}" for p in question.answer_key.get("points") or []
        ),
    }
    for kind, field in TAG_FIELDS.items():
        values[field] = ", ".join(question.tags_of(kind))
    for slot, choice in enumerate(question.choices, start=1):
        values[f"choice_{slot}"] = choice.text
        values[f"match_{slot}"] = choice.match_text or ""
        values[f"feedback_{slot}"] = choice.feedback or ""
        if choice.is_correct:
            values[f"correct_{slot}"] = "1"
    return values


def accepted_line(answer: dict) -> str:
    """Write one accepted answer back as the form's ``answer | percent | feedback``."""
    line = answer["text"]
    if answer.get("feedback"):
        return f"{line} | {answer['score']} | {answer['feedback']}"
    if Decimal(answer["score"]) != 100:
        return f"{line} | {answer['score']}"
    return line


def copy_question(question: Question) -> Question:
    """Return an unsaved copy of ``question`` with its choices and tags, owned by no one."""
    copy = Question(
        position=question.position,
        kind=question.kind,
        text=question.text,
        points=question.points,
        explanation=question.explanation,
        scoring=question.scoring,
        answer_key=dict(question.answer_key or {}),
    )
    for choice in question.choices:
        copy.choices.append(
            Choice(
                position=choice.position,
                text=choice.text,
                is_correct=choice.is_correct,
                match_text=choice.match_text,
                feedback=choice.feedback,
            )
        )
    for tag in question.tags:
        copy.tags.append(QuestionTag(kind=tag.kind, value=tag.value))
    return copy
