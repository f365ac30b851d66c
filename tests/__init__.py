"""The test suite of b2b-analysis (a package so that test modules may share basenames)."""
