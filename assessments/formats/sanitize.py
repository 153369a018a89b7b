"""HTML sanitising for imported question text, with nh3 (the ammonia library)."""

from __future__ import annotations

import dataclasses
import re

import nh3

from assessments.formats.types import (
    BLANK,
    Kind,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
)

# A tag, closing tag, comment or processing instruction starts like this.
_MARKUP = re.compile(r"<[A-Za-z!/?]")

# Answer texts that are compared with what a learner types, never rendered as HTML.
_TYPED_ANSWER_KINDS = (Kind.SHORTANSWER, Kind.NUMERICAL, Kind.TRUEFALSE)


def sanitize_text(text: str, text_format: TextFormat) -> str:
    """Remove scripts, event handlers and other unsafe markup from text shown as HTML.

    HTML text is always cleaned. Moodle and Markdown text is cleaned only when it
    contains markup, so plain sentences such as ``2 < 3`` keep their characters.
    Plain text is returned unchanged because it is escaped when rendered.

    NOTE: Markdown is checked as source text, so the HTML it renders to (a
    ``javascript:`` link, say) must be cleaned again after conversion.
    """
    if text_format is TextFormat.PLAIN or not text:
        return text
    if text_format is TextFormat.HTML or _MARKUP.search(text):
        return nh3.clean(text)
    return text


def _sanitize_answer(answer: ParsedAnswer, kind: Kind) -> ParsedAnswer:
    text = answer.text
    if kind not in _TYPED_ANSWER_KINDS:
        text = sanitize_text(text, answer.text_format)
    return dataclasses.replace(
        answer,
        text=text,
        feedback=sanitize_text(answer.feedback, answer.feedback_format),
    )


def sanitize_question(question: ParsedQuestion) -> ParsedQuestion:
    """Return a copy of the question whose rendered texts are safe to show as HTML.

    Titles, tags, category paths and matching answers are plain text and are left for
    the template to escape.
    """
    stem = sanitize_text(question.stem, question.stem_format)
    return dataclasses.replace(
        question,
        stem=stem,
        blank_offset=_moved_blank_offset(question.stem, stem, question.blank_offset),
        general_feedback=sanitize_text(
            question.general_feedback, question.general_feedback_format
        ),
        answers=[
            _sanitize_answer(answer, question.kind) for answer in question.answers
        ],
    )


def _moved_blank_offset(before: str, after: str, offset: int | None) -> int | None:
    """Find the blank at ``offset`` in ``before`` again in the sanitised ``after``."""
    if offset is None or before == after:
        return offset
    occurrence = before.count(BLANK, 0, offset)
    position = -1
    for _ in range(occurrence + 1):
        position = after.find(BLANK, position + 1)
        if position < 0:
            return None
    return position
