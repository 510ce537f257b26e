// Lets `node -r ./scripts/register-ts.js file.ts` run TypeScript sources (bench and tools) without a build step.
const { transformSync } = require('@swc/core');
const fs = require('node:fs');
require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
