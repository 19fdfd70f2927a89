#!/usr/bin/env python3
"""Write a copy of a llama GGUF cut to its first N layers (pip: gguf numpy), for comparing
engines layer by layer: `tools/truncate_gguf.py IN.gguf OUT.gguf N`."""
import gguf, sys, numpy as np
src, dst, L = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = gguf.GGUFReader(src)
w = gguf.GGUFWriter(dst, "llama")
for k, f in r.fields.items():
    if k.startswith("GGUF.") or k == "general.architecture": continue
    if k == "llama.block_count":
        w.add_uint32(k, L); continue
    vt = f.types[0]
    if vt == gguf.GGUFValueType.ARRAY:
        sub = f.types[-1]
        if sub == gguf.GGUFValueType.STRING:
            val = [bytes(f.parts[i]).decode("utf-8", errors="surrogateescape") for i in f.data]
        else:
            val = [f.parts[i].tolist()[0] for i in f.data]
        w.add_key_value(k, val, vt, sub_type=sub)
    elif vt == gguf.GGUFValueType.STRING:
        w.add_key_value(k, bytes(f.parts[f.data[0]]).decode("utf-8"), vt)
    else:
        w.add_key_value(k, f.parts[f.data[0]].tolist()[0], vt)
for t in r.tensors:
    if t.name.startswith("blk.") and int(t.name.split(".")[1]) >= L: continue
    shape = [int(x) for x in reversed(t.shape)]
    w.add_tensor(t.name, np.asarray(t.data), raw_shape=None if t.tensor_type in (gguf.GGMLQuantizationType.F32,) else t.data.shape, raw_dtype=t.tensor_type)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
