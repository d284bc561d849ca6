/** The specialised baselines: the majority floor and TF-IDF + logistic regression (scored via ONNX). */
export { MajorityAdapter, majorityFactory, majorityLabel } from './majority.ts';
export { fitTfidfLogreg, TfidfLogregAdapter, tfidfLogregFactory } from './tfidf-logreg.ts';
