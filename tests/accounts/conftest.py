import pytest

from tests.cases.browsing import english_client


@pytest.fixture
def client(app):
    return english_client(app)
