// Hot loops stackalloc scratch buffers that are always written before being read; zeroing them is waste.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
