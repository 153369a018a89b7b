"""Quizzes, questions, attempts and server-side grading."""

import logging

logger = logging.getLogger("lms.assessments")
