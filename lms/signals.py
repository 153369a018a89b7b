"""Domain signals that let higher packages report events to lower ones.

Senders pass plain values; each listener lives with the package that owns
the data it writes (hours ledger, progression record, certificates).
"""

from blinker import Namespace

_signals = Namespace()

#: A learner completed a course. kwargs: user_id, course_id, course_title,
#: hours (Decimal), tier, kind, completed_at, programme_id, exam_passed (True
#: when the completion required passing an exam, else None).
course_completed = _signals.signal("course-completed")

#: A learner completed a whole programme. kwargs: user_id, programme_id,
#: completed_at, programme_title, tier and kind (the programme's).
programme_completed = _signals.signal("programme-completed")

#: A certificate was issued. kwargs: certificate (the model instance).
certificate_issued = _signals.signal("certificate-issued")

#: A certificate was revoked. kwargs: certificate (the model instance).
certificate_revoked = _signals.signal("certificate-revoked")

#: A learner passed a quiz; sent once per passing attempt. kwargs: user_id,
#: quiz_id, attempt_id, score and max_score (Decimal), passed_on (the date in
#: the institution's zone), competency_item_ids (the course's items).
quiz_passed = _signals.signal("quiz-passed")

#: The approved trainings taken elsewhere of a person changed on some dates,
#: so the class sessions on those dates may credit more or less under the
#: daily cap (``lms.records.day_cap``). kwargs: user_id, start_date, end_date.
outside_hours_changed = _signals.signal("outside-hours-changed")
