"ftbench: the FT-Bench fine-tuning benchmark (ten tasks, their metrics, offline mini tasks)."
__version__ = "0.0.1"
