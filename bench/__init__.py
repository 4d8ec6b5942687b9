"""Benchmarks: speed and accuracy against scipy and libroadrunner, measured in one run."""
