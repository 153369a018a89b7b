"""Programmes, courses, lessons, enrolment, progress and completion."""

import logging

logger = logging.getLogger("lms.courses")
