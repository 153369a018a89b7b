"""Training-hour compliance: requirement rules stored as data and the engine
that checks a person's hours ledger against them.

``models`` contains the rules and the person attributes they filter on,
``engine`` evaluates them, and ``seed`` loads the national rules.
"""

import logging

logger = logging.getLogger("lms.compliance")
