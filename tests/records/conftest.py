import pytest

from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    """Return the ids of the committed data that build_learning_world adds."""
    return build_learning_world()
