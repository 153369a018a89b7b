"""Promotion rules per institution, eligibility, applications and their review.

The routes, all on the ``promotion`` blueprint:

- ``views.py``: ``/promotions`` lists the signed-in learner's promotions,
  eligible or not, and their applications, and ``/promotions/apply/<rule>``
  applies. ``/promotions/applications/<id>`` shows an application with its
  evidence snapshot and decisions: the applicant resubmits and withdraws
  there, and HR decides there. ``/promotions/review`` is HR's queue and
  ``/people/<id>/promotions`` one person's eligibility for HR.
- ``rule_views.py``: ``/promotions/rules`` to list, add and edit rules, and
  ``/people/<id>/hr-scope`` to limit an HR account to a department.
- ``export_views.py``: ``/people/<id>/dossier.pdf`` and
  ``/promotions/exports/*.xlsx``.
"""

import logging

logger = logging.getLogger("lms.promotion")
