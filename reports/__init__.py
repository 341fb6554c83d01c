"""The report builder: not built yet (see issue 5); `python -m reports` says so and exits 2."""
