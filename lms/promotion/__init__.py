"""Promotion rules per institution, eligibility, applications and their review.

The routes (all in ``views.py``):

- ``/promotions``: the signed-in learner's promotions, eligible or not, and
  their applications; ``/promotions/apply/<rule>`` applies.
- ``/promotions/applications/<id>``: an application, its evidence snapshot
  and its decisions; the applicant edits, resubmits and withdraws there, HR
  decides there.
- ``/promotions/review``: applications waiting for the signed-in HR officer.
- ``/promotions/rules``: HR and admins list, add and edit the rules.
- ``/people/<id>/dossier.pdf``, ``/promotions/exports/*.xlsx``: exports.
"""

import logging

logger = logging.getLogger("lms.promotion")
