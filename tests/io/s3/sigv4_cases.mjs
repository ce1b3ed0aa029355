/*
 * sigv4_cases.mjs — the request table sigv4_conformance.mjs signs (data only, no logic).
 *
 * Each case is one dump-program input line (see sigv4_conformance.mjs) plus `name` and,
 * for AWS's published S3 examples, `expect_signature` (asserted against both the smithy
 * oracle and the dump program). All paths, query keys/values and header values are RAW
 * (unencoded); query pairs are in the order a client would add them, not sorted.
 */

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const DATE = '20261124T120000Z';
const LOCAL = '127.0.0.1:9000';
const VHOST = 'bucket.s3.eu-west-3.amazonaws.com';
const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
// sha256("hello world\n"): any 64-hex value works, the signer never sees the body.
const BODY_SHA = 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447';
const TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def+ghi==';
const UPLOAD_ID = 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--+/x=';

/// A case with the defaults filled in.
function c(name, fields) {
  return {
    name, method: 'GET', host: LOCAL, key_path: '/', query: [], headers: [],
    payload_sha256: 'UNSIGNED-PAYLOAD', region: 'us-east-1', access_key: AKID,
    secret_key: SECRET, session_token: '', amz_date: DATE, ...fields,
  };
}

export const CASES = [
  c('GET plain key, path-style, host with port', { key_path: '/bucket/data/part-00000.parquet' }),
  c('GET Range, Hive key with = and space', {
    key_path: '/bucket/date=2024-01-01/part 0.parquet', headers: [['range', 'bytes=100-199']] }),
  c('HEAD key with + and ~', { method: 'HEAD', key_path: '/bucket/a+b~c.txt' }),
  c('PUT unicode key, real payload sha256, eu-west-3', {
    method: 'PUT', key_path: '/bucket/données/été-€ 日本.bin', region: 'eu-west-3',
    payload_sha256: BODY_SHA,
    headers: [['content-length', '12'], ['content-type', 'application/octet-stream']] }),
  c('PUT key with literal %, %20 and !\'()*', {
    method: 'PUT', key_path: "/bucket/100%/lit%20eral/we!rd'(x)*.txt", payload_sha256: EMPTY_SHA,
    headers: [['content-length', '0']] }),
  c('GET key with // double slash', { key_path: '/bucket/a//b///c.txt' }),
  c('PUT directory marker with trailing slash', {
    method: 'PUT', key_path: '/bucket/dir/sub/', payload_sha256: EMPTY_SHA,
    headers: [['content-length', '0']] }),
  c('ListObjectsV2 prefix with space', {
    key_path: '/bucket', query: [['list-type', '2'], ['prefix', 'a b'], ['max-keys', '2']] }),
  c('ListObjectsV2 continuation-token with / + =, delimiter', {
    key_path: '/bucket', query: [['list-type', '2'], ['prefix', 'date=2024-01-01/'],
      ['delimiter', '/'], ['continuation-token', '1KRez/UnquUuXOS+SG+ET1==']] }),
  c('ListObjectsV2 value needing every escape', {
    key_path: '/bucket', query: [['list-type', '2'], ['prefix', "dir/sub dir/é+=&?#%~!'()*"],
      ['start-after', 'k=v;x,y:z@$']] }),
  c('CreateMultipartUpload ?uploads (empty value)', {
    method: 'POST', key_path: '/bucket/big file=1.bin', query: [['uploads', '']],
    payload_sha256: EMPTY_SHA }),
  c('UploadPart partNumber + uploadId, real sha', {
    method: 'PUT', key_path: '/bucket/big file=1.bin', payload_sha256: BODY_SHA,
    query: [['partNumber', '1'], ['uploadId', UPLOAD_ID]], headers: [['content-length', '12']] }),
  c('CompleteMultipartUpload ?uploadId, xml body', {
    method: 'POST', key_path: '/bucket/big file=1.bin', payload_sha256: BODY_SHA,
    query: [['uploadId', UPLOAD_ID]],
    headers: [['content-length', '12'], ['content-type', 'application/xml']] }),
  c('AbortMultipartUpload DELETE ?uploadId', {
    method: 'DELETE', key_path: '/bucket/big file=1.bin', query: [['uploadId', UPLOAD_ID]] }),
  c('DELETE object with session token', {
    method: 'DELETE', key_path: '/bucket/tmp/x.bin', session_token: TOKEN }),
  c('GET virtual-hosted, eu-west-3, session token', {
    host: VHOST, region: 'eu-west-3', key_path: '/path/to/obj=1.json', session_token: TOKEN,
    headers: [['range', 'bytes=0-1023']] }),
  c('ListObjectsV2 virtual-hosted root path, empty-valued params', {
    host: VHOST, region: 'eu-west-3', key_path: '/',
    query: [['list-type', '2'], ['fetch-owner', ''], ['encoding-type', 'url'], ['prefix', '']] }),
  c('query sort: uppercase, key prefix of key, repeated key', {
    key_path: '/bucket/k', query: [['x-id', 'GetObject'], ['a-b', '2'], ['a', 'z'],
      ['X-Upper', '1'], ['a', 'b'], ['a', 'B']] }),
  c('header values trimmed and spaces collapsed', {
    method: 'PUT', key_path: '/bucket/meta.txt', payload_sha256: BODY_SHA,
    headers: [['content-length', '12'], ['x-amz-meta-note', '  two   spaces\tand tab  '],
      ['x-amz-storage-class', 'STANDARD'], ['content-md5', 'XrY7u+Ae7tCTyyK7j1rNww==']] }),

  // AWS's published examples (S3 API reference, "Signature Calculations for the
  // Authorization Header: Transferring Payload in a Single Chunk").
  c('AWS example: GET Object with Range', {
    host: 'examplebucket.s3.amazonaws.com', key_path: '/test.txt',
    headers: [['range', 'bytes=0-9']], payload_sha256: EMPTY_SHA,
    access_key: 'AKIAIOSFODNN7EXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    amz_date: '20130524T000000Z',
    expect_signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41' }),
  c('AWS example: PUT Object (key with $, Date header signed)', {
    method: 'PUT', host: 'examplebucket.s3.amazonaws.com', key_path: '/test$file.text',
    headers: [['date', 'Fri, 24 May 2013 00:00:00 GMT'],
      ['x-amz-storage-class', 'REDUCED_REDUNDANCY']],
    payload_sha256: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    access_key: 'AKIAIOSFODNN7EXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    amz_date: '20130524T000000Z',
    expect_signature: '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd' }),
  c('AWS example: GET Bucket Lifecycle', {
    host: 'examplebucket.s3.amazonaws.com', key_path: '/', query: [['lifecycle', '']],
    payload_sha256: EMPTY_SHA,
    access_key: 'AKIAIOSFODNN7EXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    amz_date: '20130524T000000Z',
    expect_signature: 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543' }),
  c('AWS example: GET Bucket (List Objects)', {
    host: 'examplebucket.s3.amazonaws.com', key_path: '/',
    query: [['max-keys', '2'], ['prefix', 'J']], payload_sha256: EMPTY_SHA,
    access_key: 'AKIAIOSFODNN7EXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    amz_date: '20130524T000000Z',
    expect_signature: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7' }),
];
