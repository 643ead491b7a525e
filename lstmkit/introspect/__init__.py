"""lstmkit.introspect"""
