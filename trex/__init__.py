"trex: agent-driven, tree-based LLM fine-tuning with a person in the loop."
__version__ = "0.0.1"
