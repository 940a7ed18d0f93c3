"""yuqing (輿情): monitor, analyse and answer online public opinion in Chinese."""

__version__ = "0.1.0"
