"""Everything that produces output, on top of the fix, the contract and the bug: the report
(`python -m reports`), the lessons, the native driver, the survey, the benchmarks and the
mutant table, one sub-package or module each. Importing this package imports none of them:
the contract's worker imports `reports.survey` to find a surveyed registry's factory."""

__all__: list[str] = []
