"""Scores the iris example model from Python: pip install ./python pandas && python examples/python/score_iris.py"""
import sys

import pandas as pd

import pmmlrt

model = pmmlrt.load(sys.argv[1] if len(sys.argv) > 1 else "examples/models/iris_forest.pmml")
X = pd.DataFrame({"sepal_length": [5.1, 6.7], "sepal_width": [3.5, 3.0],
                  "petal_length": [1.4, 5.2], "petal_width": [0.2, 2.3]})
print(model.predict(X))        # ['setosa' 'virginica']
print(model.predict_proba(X))  # rows x classes, in model.classes_ order
print(model.score(X))          # every result as a DataFrame
