"""The data graph: model, access derivation, compiled reachability, rules, export."""
