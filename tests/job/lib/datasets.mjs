// The job tests' inputs, made once per run (on first use) under WORK/data by `sluice datagen`
// and DuckDB. Each getter resolves to { dir, glob, ... }.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runOk } from './sluice_process.mjs';
import { sqlString } from './predictions.mjs';

export class Datasets {
  constructor({ bin, photos, root, db }) {
    Object.assign(this, { bin, photos, root, db });
    this.made = new Map();
  }

  once(name, make) {
    if (!this.made.has(name)) this.made.set(name, make(join(this.root, name)));
    return this.made.get(name);
  }

  async datagen(kind, dir, images, perFile, seed) {
    await runOk(this.bin, ['datagen', kind, '--out', dir, '--images', String(images), '--per-file', String(perFile),
      '--seed', String(seed), ...(kind === 'jpeg' ? ['--photos', this.photos] : [])]);
    return { dir, glob: join(dir, '*.parquet') };
  }

  /// 230 JPEG rows in files of 100, 100 and 30 rows, rewritten by `sluice parquet copy` into
  /// row groups of 25: shard_rows 50 gives 5 shards of 2 row groups (the last 25 + 5).
  jpeg() {
    return this.once('jpeg', async (dir) => {
      const gen = await this.datagen('jpeg', join(dir, 'gen'), 230, 100, 1);
      const out = join(dir, 'in');
      mkdirSync(out, { recursive: true });
      for (const name of readdirSync(gen.dir).filter((n) => n.endsWith('.parquet')).sort()) {
        await runOk(this.bin, ['parquet', 'copy', join(gen.dir, name), join(out, name), '--row-group-rows', '25']);
      }
      return { dir: out, glob: join(out, '*.parquet'), rows: 230 };
    });
  }

  /// 150 raw uint8 [256, 256, 3] rows in 5 files.
  raw() {
    return this.once('raw', (dir) => this.datagen('raw', dir, 150, 30, 2));
  }

  /// 600 JPEG rows in 30 files of 20 (30 shards): long enough to be killed at many points.
  crash() {
    return this.once('crash', (dir) => this.datagen('jpeg', dir, 600, 20, 3));
  }

  /// 1500 raw rows (281 MiB of pixels) in files (row groups) of 100, and 50 in one file.
  rawLarge() {
    return this.once('raw_large', (dir) => this.datagen('raw', dir, 1500, 100, 4));
  }
  rawSmall() {
    return this.once('raw_small', (dir) => this.datagen('raw', dir, 50, 100, 4));
  }

  /// The seeds' raw layout as Ray and Spark write it: 1,000 rows of 256x256x3 uint8 in two
  /// files of one 500-row row group each (94 MiB of pixels per row group).
  rawBigGroups() {
    return this.once('raw_big_groups', (dir) => this.datagen('raw', dir, 1000, 500, 8));
  }

  /// 100 JPEG rows in 4 files, for S3.
  s3jpeg() {
    return this.once('s3jpeg', (dir) => this.datagen('jpeg', dir, 100, 25, 5));
  }

  /// A folder of real photos in nested folders (every photo of --photos; one JPEG also as a
  /// PNG converted by PIL; a text file that is not an image). Resolves to
  /// { dir, images: [paths], pngOf: { png: jpg } }.
  imageFolder() {
    return this.once('images', async (dir) => {
      const photos = readdirSync(this.photos).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
      if (photos.length < 4) throw new Error(`${this.photos} has ${photos.length} photos; run scripts/fetch_photos.sh`);
      const subdirs = ['', 'a', 'a/b', 'c/d/e'];
      const images = [];
      photos.forEach((name, i) => {
        const sub = join(dir, subdirs[i % subdirs.length]);
        mkdirSync(sub, { recursive: true });
        copyFileSync(join(this.photos, name), join(sub, name));
        images.push(join(sub, name));
      });
      const jpg = images.find((p) => /\.jpe?g$/i.test(p));
      const png = join(dir, 'c', 'converted.png');
      const py = 'import sys\nfrom PIL import Image\nImage.open(sys.argv[1]).convert("RGB").save(sys.argv[2])\n';
      const r = spawnSync('/usr/bin/python3', ['-c', py, jpg, png], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`PIL cannot convert ${jpg} to PNG: ${r.stderr}`);
      images.push(png);
      writeFileSync(join(dir, 'a', 'notes.txt'), 'not an image\n');
      return { dir, images, pngOf: { [png]: jpg } };
    });
  }

  /// 100 JPEG rows (DuckDB-written, 4 files of 25) of which 6 have a bad image: truncated
  /// JPEGs (first 500 bytes of a real one), random bytes, text, an empty blob and a null.
  /// Resolves to { glob, bad: Map id -> kind, good: Map id -> label }.
  badRows() {
    return this.once('bad_rows', async (dir) => {
      const gen = await this.datagen('jpeg', join(dir, 'gen'), 100, 100, 6);
      const db = this.db;
      await db.run(`CREATE OR REPLACE TABLE bad_src AS SELECT * FROM read_parquet(${sqlString(gen.glob)})`);
      const hexOf = async (id) => (await db.all(`SELECT hex(image) AS h FROM bad_src WHERE id = ${sqlString(id)}`))[0].h;
      const bad = new Map([
        ['img_000000003', ['truncated JPEG', `unhex('${(await hexOf('img_000000010')).slice(0, 1000)}')`]],
        ['img_000000027', ['random bytes', `unhex('${randomBytes(2000).toString('hex')}')`]],
        ['img_000000050', ['text', `'this is not an image, just text'::BLOB`]],
        ['img_000000051', ['empty blob', `''::BLOB`]],
        ['img_000000074', ['null', 'NULL']],
        ['img_000000099', ['truncated JPEG', `unhex('${(await hexOf('img_000000099')).slice(0, 1000)}')`]],
      ]);
      for (const [id, [, value]] of bad) await db.run(`UPDATE bad_src SET image = ${value} WHERE id = ${sqlString(id)}`);
      const out = join(dir, 'in');
      mkdirSync(out, { recursive: true });
      for (let f = 0; f < 4; f++) {
        await db.run(`COPY (SELECT * FROM bad_src ORDER BY id LIMIT 25 OFFSET ${25 * f}) TO ` +
          `${sqlString(join(out, `part-${f}.parquet`))} (FORMAT PARQUET)`);
      }
      const rows = await db.all('SELECT id, label FROM bad_src');
      const good = new Map(rows.filter((r) => !bad.has(r.id)).map((r) => [r.id, Number(r.label)]));
      await db.run('DROP TABLE bad_src');
      return { glob: join(out, '*.parquet'), bad: new Map([...bad].map(([id, [kind]]) => [id, kind])), good };
    });
  }

  /// Two DuckDB-written files of 20 rows: a.parquet fine, b.parquet every image unreadable.
  allBadShard() {
    return this.once('all_bad', async (dir) => {
      const gen = await this.datagen('jpeg', join(dir, 'gen'), 40, 40, 7);
      mkdirSync(join(dir, 'in'), { recursive: true });
      const src = `read_parquet(${sqlString(gen.glob)})`;
      await this.db.run(`COPY (SELECT * FROM ${src} ORDER BY id LIMIT 20) TO ${sqlString(join(dir, 'in', 'a.parquet'))} (FORMAT PARQUET)`);
      await this.db.run(`COPY (SELECT id, label, 'not an image'::BLOB AS image FROM ${src} ORDER BY id OFFSET 20) ` +
        `TO ${sqlString(join(dir, 'in', 'b.parquet'))} (FORMAT PARQUET)`);
      return { glob: join(dir, 'in', '*.parquet') };
    });
  }
}
