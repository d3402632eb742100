"""Content checks' evidence from the data itself: readers, fingerprints, canaries,
Great Expectations suites, on pandas or Spark. See :mod:`audit.content.scan`."""
