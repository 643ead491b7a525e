"""lstmkit.ref"""
