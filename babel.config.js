/** Jest compiles the TypeScript tests with Babel (types are checked by `npm run build`). */
module.exports = {
  presets: [['@babel/preset-env', { targets: { node: '20' } }], '@babel/preset-typescript'],
};
