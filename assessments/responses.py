"""Read a learner's answers from the attempt form into stored responses.

Field names, for question id ``Q``:

* ``qQ``: chosen choice ids (single, true/false, multiple) or the text of a
  short answer or essay
* ``qQ_N``: the text of blank N (1-based) of a fill-in-the-blank question
* ``qQ_C``: for matching, the answer picked for item (choice) C
* ``qQ_I``: for ordering, the place (1-based) given to the item shown I-th.
  Items are named by their shown place, not their id, because ids follow
  the correct order.
* ``seen``: the ids of the questions the form showed, so a question whose
  checkboxes were all cleared is saved as unanswered

A value that does not fit its question is dropped, so a tampered form is
graded on what remains instead of failing.
"""

from typing import Any, Optional

from werkzeug.datastructures import MultiDict

from assessments.models import AttemptQuestion, Question, QuestionKind

MAX_SHORT_ANSWER = 1000
MAX_ESSAY = 20000


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def clean_response(question: Question, raw: Any, match_options=(), choice_ids=None) -> Any:
    """Return ``raw`` reduced to what ``question`` can store, or None when unanswered.

    ``choice_ids`` are the ids a response may name: an attempt passes its
    slot's ``choice_order``, the choices it showed, so the question's choices
    need not be loaded. Without them, the question's choices count.
    """
    kind = question.kind
    if choice_ids is None:
        choice_ids = [choice.id for choice in question.choices]
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE, QuestionKind.MULTIPLE):
        values = raw if isinstance(raw, (list, set, tuple)) else [raw]
        chosen = {_int(value) for value in values if has_input(value)}
        if not chosen <= set(choice_ids):
            # A choice of another question means the page is out of date:
            # storing the rest would record an answer the learner did not give.
            return None
        ids = sorted(chosen)
        if kind is not QuestionKind.MULTIPLE:
            ids = ids[:1] if len(ids) == 1 else []
        return ids or None
    if kind is QuestionKind.ORDERING:
        ids = [_int(value) for value in raw] if isinstance(raw, list) else []
        return ids if sorted(ids) == sorted(choice_ids) else None
    if kind is QuestionKind.MATCHING:
        if not isinstance(raw, dict):
            return None
        allowed = set(match_options) or {c.match_text for c in question.choices}
        if any(has_input(value) and value not in allowed for value in raw.values()):
            return None
        cleaned = {
            str(choice_id): raw[str(choice_id)]
            for choice_id in choice_ids
            if raw.get(str(choice_id)) in allowed
        }
        return cleaned or None
    if kind is QuestionKind.FILL_BLANK:
        count = len(question.answer_key.get("blanks") or [])
        values = list(raw) if isinstance(raw, (list, tuple)) else []
        texts = [
            (values[i] if i < len(values) and isinstance(values[i], str) else "").strip()[
                :MAX_SHORT_ANSWER
            ]
            for i in range(count)
        ]
        return texts if any(texts) else None
    limit = MAX_ESSAY if kind is QuestionKind.ESSAY else MAX_SHORT_ANSWER
    text = raw.strip() if isinstance(raw, str) else ""
    return text[:limit] or None


def _raw_from_form(slot: AttemptQuestion, form: MultiDict) -> tuple[bool, Any]:
    """Return whether the form carries fields for the question and their raw value."""
    question = slot.question
    name = f"q{question.id}"
    kind = question.kind
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE, QuestionKind.MULTIPLE):
        return name in form, form.getlist(name)
    if kind in (QuestionKind.SHORT_ANSWER, QuestionKind.ESSAY):
        return name in form, form.get(name, "")
    if kind is QuestionKind.FILL_BLANK:
        count = len(question.answer_key.get("blanks") or [])
        names = [f"{name}_{index}" for index in range(1, count + 1)]
        return any(n in form for n in names), [form.get(n, "") for n in names]
    if kind is QuestionKind.MATCHING:
        keyed = {
            str(choice_id): form.get(f"{name}_{choice_id}")
            for choice_id in slot.choice_order
            if f"{name}_{choice_id}" in form
        }
        return bool(keyed), keyed
    shown = list(slot.choice_order)
    places = {
        choice_id: _int(form.get(f"{name}_{index}"))
        for index, choice_id in enumerate(shown, start=1)
        if f"{name}_{index}" in form
    }
    if len(places) != len(shown) or None in places.values():
        return bool(places), None
    return True, sorted(places, key=lambda key: (places[key], shown.index(key)))


def parse_form(
    attempt_questions: list[AttemptQuestion],
    form: MultiDict,
    ignored: Optional[list[int]] = None,
) -> dict[int, Any]:
    """Return cleaned responses for the questions the form answered or showed.

    A question whose fields carry input that it cannot accept (a choice of
    another question, say) is left out, so the answer saved before stays,
    and its id is appended to ``ignored`` when a list is given.
    """
    seen = {_int(value) for value in form.getlist("seen")}
    responses: dict[int, Any] = {}
    for slot in attempt_questions:
        question = slot.question
        present, raw = _raw_from_form(slot, form)
        if not present and question.id not in seen:
            continue
        response = clean_response(question, raw, slot.match_options, slot.choice_order)
        if response is None and present and has_input(raw):
            if ignored is not None:
                ignored.append(question.id)
            continue
        responses[question.id] = response
    return responses


def has_input(raw: Any) -> bool:
    """Return whether a raw response carries anything beyond blanks."""
    if isinstance(raw, str):
        return bool(raw.strip())
    if isinstance(raw, dict):
        return any(has_input(value) for value in raw.values())
    if isinstance(raw, (list, tuple, set, frozenset)):
        return any(has_input(value) for value in raw)
    return raw is not None
