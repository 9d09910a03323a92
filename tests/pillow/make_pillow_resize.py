# Writes pillow-resize.json: Pillow 13 resize(BICUBIC, reducing_gap=1) and reduce((2,3)) outputs on random RGB images.
# Run from the repo root with the exporter venv: .venv/bin/python tests/pillow/make_pillow_resize.py
import numpy as np, json, base64
from PIL import Image
rng=np.random.default_rng(1)
cases=[]
# Shapes cover Pillow's pass order (vertical first when the height shrinks > 2x more than the width), reduce and fractional boxes.
for (h,w,nh,nw) in [(64,96,96,64),(64,128,128,64),(50,97,30,40),(64,64,64,64),(37,91,200,13),(120,64,40,60),
                    (64,64,32,48),(80,40,30,60),(40,80,60,30),(30,30,20,60),(100,50,80,45),(96,64,64,96)]:
    a=(rng.random((h,w,3))*255).astype(np.uint8)
    # smooth-ish plus noise
    out=np.array(Image.fromarray(a).resize((nw,nh), resample=Image.BICUBIC, reducing_gap=1))
    red=np.array(Image.fromarray(a).reduce((2,3)))
    cases.append({"h":h,"w":w,"nh":nh,"nw":nw,"src":base64.b64encode(a.tobytes()).decode(),"out":base64.b64encode(out.tobytes()).decode(),"reduce23":base64.b64encode(red.tobytes()).decode(),"rh":red.shape[0],"rw":red.shape[1]})
json.dump(cases, open('tests/pillow/pillow-resize.json','w'))
