import fs from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';

/** What an archive may hold at most; a zip bomb or a stray backup stops with a clear error instead of filling the disk. */
export const ZIP_LIMITS = { entries: 20_000, bytes: 200 * 1024 * 1024 };

/**
 * Extracts the files of a zip archive into `destDir`. yauzl refuses absolute names and `..` parts
 * (no writing outside destDir); symbolic links and directories are skipped, sizes are checked
 * against what each entry declares and against ZIP_LIMITS.
 */
export async function extractZip(file: string, destDir: string, limits = ZIP_LIMITS): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true }, (err, z) => (err ? reject(notAZip(file, err)) : resolve(z!))),
  );
  const written: string[] = [];
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      zip.close();
      reject(err);
    };
    zip.on('error', (err: Error) => fail(notAZip(file, err)));
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/') || isSymlink(entry)) {
        zip.readEntry();
        return;
      }
      if (written.length >= limits.entries) return fail(new Error(`${file}: more than ${limits.entries} files in the archive`));
      bytes += entry.uncompressedSize;
      if (bytes > limits.bytes) return fail(new Error(`${file}: more than ${limits.bytes / 1024 / 1024} MB once extracted`));
      const target = path.join(destDir, entry.fileName);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err) return fail(notAZip(file, err));
        const out = fs.createWriteStream(target);
        stream!.on('error', (e) => fail(notAZip(file, e)));
        out.on('error', fail);
        out.on('finish', () => {
          written.push(entry.fileName);
          zip.readEntry();
        });
        stream!.pipe(out);
      });
    });
    zip.readEntry();
  });
  return written;
}

function isSymlink(entry: yauzl.Entry): boolean {
  const unixMode = (entry.externalFileAttributes >>> 16) & 0o170000;
  return unixMode === 0o120000;
}

function notAZip(file: string, err: Error): Error {
  return new Error(`${file} is not a readable zip archive (${err.message})`);
}
