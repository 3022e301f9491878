import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';

/** Start-up compiles the metadata schemas without checking them against the meta-schema; this does. */
test('every shipped metadata schema is a valid JSON Schema and compiles', () => {
  const dir = path.join(__dirname, '..', '..', 'metadata', 'schemas');
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: true });
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json'));
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    expect([file, ajv.validateSchema(schema) ? 'valid' : ajv.errorsText(ajv.errors)]).toEqual([file, 'valid']);
    ajv.addSchema(schema);
  }
  for (const file of files) {
    const id = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).$id;
    expect(typeof ajv.getSchema(id)).toBe('function');
  }
});
