"""SinGAN engine: learn a generative model from one image (training, model files, import).

`ml.singan.model.SinGANModel` is the model every application uses; `ml.singan.train`
trains one with a preset ('paper', 'fast', 'preview'); `ml.singan.official` imports a model
trained by the official tamarott/SinGAN code.
"""
