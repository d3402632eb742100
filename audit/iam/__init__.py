"""IAM policy evaluation: a sound over-approximation of who may move data where."""
