"""Judgement aids: what the public asks and demands, coordinated-account signals and
response-strategy advice (issue 9)."""
