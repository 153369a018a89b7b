"""Score one answer to one question. Pure functions: no database, no clock.

Every function returns Decimal points rounded half up to ``SCORE_PLACES``,
never below 0 and never above the question's points, or None for an essay
with text, which a trainer grades by hand.
"""

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Optional

from assessments.models import SCORE_PLACES, ChoiceScoring, Question, QuestionKind

ZERO = Decimal(0)


def normalize_text(value: Any) -> str:
    """Fold an answer for comparison: NFKC, case-folded, inner spaces collapsed.

    NFKC maps full-width letters and digits to their ASCII forms, so ``ＡＢＣ``
    and ``abc`` compare equal.
    """
    if not isinstance(value, str):
        return ""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return " ".join(folded.split())


def _clamp(points: Decimal, value: Decimal) -> Decimal:
    value = max(ZERO, min(points, value))
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def _ids(response: Any) -> list[int]:
    if not isinstance(response, list):
        return []
    return [item for item in response if isinstance(item, int) and not isinstance(item, bool)]


def grade_choices(question: Question, response: Any) -> Decimal:
    """Grade single, true/false and multiple choice; ids not in the question are ignored."""
    valid = {choice.id for choice in question.choices}
    selected = set(_ids(response)) & valid
    correct = {choice.id for choice in question.choices if choice.is_correct}
    wrong = valid - correct
    points = question.points

    if question.kind is not QuestionKind.MULTIPLE:
        return points if len(selected) == 1 and selected == correct else ZERO
    if question.scoring is ChoiceScoring.ALL_OR_NOTHING or not correct:
        return points if selected == correct else ZERO

    share = Decimal(len(selected & correct)) / len(correct)
    if question.scoring is ChoiceScoring.PARTIAL_PENALTY and wrong:
        # Each wrong pick costs 1/|wrong| of the points, so picking every
        # choice scores 0 rather than full marks.
        share -= Decimal(len(selected & wrong)) / len(wrong)
    return _clamp(points, points * share)


def grade_fill_blank(question: Question, response: Any) -> Decimal:
    """Give each blank an equal share of the points when it matches an accepted answer."""
    blanks = question.answer_key.get("blanks") or []
    if not blanks:
        return ZERO
    given = response if isinstance(response, list) else []
    right = 0
    for index, accepted in enumerate(blanks):
        answer = normalize_text(given[index]) if index < len(given) else ""
        if answer and answer in {normalize_text(text) for text in accepted}:
            right += 1
    return _clamp(question.points, question.points * right / len(blanks))


def response_number(value: Any) -> Optional[Decimal]:
    """Read a learner's numeric answer: NFKC folded, ``,`` as thousands separator.

    Returns None for text that is not a finite number.
    """
    if not isinstance(value, str):
        return None
    folded = unicodedata.normalize("NFKC", value).strip().replace(",", "")
    try:
        number = Decimal(folded)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _matches(accepted: dict, answer: str, number: Optional[Decimal]) -> bool:
    if "min" in accepted and "max" in accepted:
        if number is None:
            return False
        try:
            return Decimal(str(accepted["min"])) <= number <= Decimal(str(accepted["max"]))
        except InvalidOperation:
            return False
    return normalize_text(accepted.get("text")) == answer


def matched_answer(question: Question, response: Any) -> Optional[dict]:
    """Return the accepted answer a short answer matches, the best scoring one first.

    Text answers match after ``normalize_text``; a number range (``min`` and
    ``max``) matches any number inside it, bounds included.
    """
    answer = normalize_text(response)
    if not answer:
        return None
    number = response_number(response)
    best = None
    for accepted in question.answer_key.get("answers") or []:
        if not _matches(accepted, answer, number):
            continue
        if best is None or _percent(accepted.get("score")) > _percent(best.get("score")):
            best = accepted
    return best


def grade_short_answer(question: Question, response: Any) -> Decimal:
    """Award the highest percentage among the accepted answers that match."""
    accepted = matched_answer(question, response)
    if accepted is None:
        return ZERO
    best = _percent(accepted.get("score"))
    return _clamp(question.points, question.points * best / 100)


def _percent(raw: Any) -> Decimal:
    try:
        return Decimal(str(raw if raw is not None else "100"))
    except InvalidOperation:
        return ZERO


def grade_matching(question: Question, response: Any) -> Decimal:
    """Give each pair an equal share; ``response`` maps choice id (as text) to an answer."""
    pairs = [choice for choice in question.choices if choice.text]
    if not pairs:
        return ZERO
    given = response if isinstance(response, dict) else {}
    right = sum(
        1
        for choice in pairs
        if isinstance(given.get(str(choice.id)), str)
        and given[str(choice.id)] == choice.match_text
    )
    return _clamp(question.points, question.points * right / len(pairs))


def grade_ordering(question: Question, response: Any) -> Decimal:
    """Grade an order of choice ids: all or nothing, or a share per item in place."""
    expected = [choice.id for choice in question.choices]
    given = _ids(response)
    if sorted(given) != sorted(expected):
        return ZERO
    if question.scoring is ChoiceScoring.ALL_OR_NOTHING:
        return question.points if given == expected else ZERO
    in_place = sum(1 for got, want in zip(given, expected) if got == want)
    return _clamp(question.points, question.points * in_place / len(expected))


def grade_essay(question: Question, response: Any) -> Optional[Decimal]:
    """Return 0 for a blank essay and None (grade by hand) for any text."""
    if isinstance(response, str) and response.strip():
        return None
    return ZERO


_GRADERS = {
    QuestionKind.SINGLE: grade_choices,
    QuestionKind.TRUE_FALSE: grade_choices,
    QuestionKind.MULTIPLE: grade_choices,
    QuestionKind.FILL_BLANK: grade_fill_blank,
    QuestionKind.SHORT_ANSWER: grade_short_answer,
    QuestionKind.MATCHING: grade_matching,
    QuestionKind.ORDERING: grade_ordering,
    QuestionKind.ESSAY: grade_essay,
}


def grade(question: Question, response: Any) -> Optional[Decimal]:
    """Score ``response`` to ``question``; None means a trainer must grade it."""
    return _GRADERS[question.kind](question, response)


def essay_total(question: Question, point_scores: list[Decimal]) -> Decimal:
    """Check per-point essay scores against the key's maxima and return their sum.

    Raises ValueError naming the first score that is negative or too high.
    """
    maxima = [Decimal(str(item["max"])) for item in question.answer_key.get("points") or []]
    if not maxima:
        maxima = [question.points]
    if len(point_scores) != len(maxima):
        raise ValueError(f"expected {len(maxima)} scores, got {len(point_scores)}")
    for index, (score, maximum) in enumerate(zip(point_scores, maxima), start=1):
        if score < 0 or score > maximum:
            raise ValueError(f"score {index} must be between 0 and {maximum}")
    return _clamp(question.points, sum(point_scores, ZERO))
