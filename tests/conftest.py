"""Shared test helpers. LibreOffice tests must run, not skip: CI installs it, so a missing soffice fails."""

import pytest

from tcomodel.verify.recalc import find_soffice


@pytest.fixture(scope="session")
def soffice_available():
    path = find_soffice()
    if path is None:
        pytest.fail("LibreOffice (soffice) is required for this test: apt-get install libreoffice-calc-nogui")
    return path
