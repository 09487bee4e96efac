"ftbench: the FT-Bench fine-tuning benchmark (ten tasks, their metrics, offline mini tasks)."
__version__ = "0.0.1"
from .core import FTBenchError, Score, Task, task, tasks, register, gain, read_rows, to_dataset
from . import suite, lawbench, mini, hf  # the ten FT-Bench tasks (lawbench replaces suite's LawBench with the official scorer), the mini tasks; hf adds Task.metric()
