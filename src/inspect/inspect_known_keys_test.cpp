// Well-known test keys (known_keys.json): the Linux kernel's crypto self-test RSA keys are
// reported as info, not as leaked private keys; a CA whose key is in the image is flagged.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "inspect/crypto_material.hpp"
#include "inspect/inspect_test_util.hpp"
#include "inspect/rules.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;
using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

// DER RSAPrivateKey bytes of linux-6.1 crypto/testmgr.h, as found at 0x12abef0 and 0x12acf98
// of the vmlinux in Debian's linux-image-6.1.0-50-cloud-amd64-unsigned (6.1.176-1):
// pkcs1pad_rsa_tv_template[0].key (modulus d71e7782...) and rsa_tv_template's 2048-bit key
// (modulus db101ac2...). Public test vectors (CAVS), not secrets.
constexpr const char* kTestmgrPkcs1padKeyHex =
    "308204a50201000282010100d71e77828c9231e76902a2d55c78dea20c8ffe285931df409c606106b92f62408076cb"
    "67"
    "4ab55956691707faf94cbd6c377a467d70a76722b34d7a94c3ba4b7c4ba9327cb738954564a405a89f127c4ec6c82d"
    "40"
    "0630f460a691bb9bca0479111375f0aed35189c574b9aa3fb683e4786bcdf95c4c85ea523b5193fc146b335d3070fa"
    "50"
    "1b1b3881138df7a50cc08ef96352184ea9f9f85c5dcd7a0dd48e7bee917bad7db492d5ab163b0a8ace8ede471a1701"
    "86"
    "7bab99f14b0c3a0d8247c1918cbb2e229e49636e02c1c93a9ba5221b0795d6100250fdfdd19bbeabc2c074d7ec00fb"
    "11"
    "71cb7adc81799f86684663824db7f1e6166f4263f494a0ca33cc751302030100010282010062b560314f3f6616c160"
    "ac"
    "472aff6b69004ab25ce150b91874a8e4dca8eccd30bbc1c6e3c6ac202a3e5e8b12e6820809380bab7cb3cc9cce9767"
    "dd"
    "ef95404e92e244e91dc114fda9b1dc719c4621bd58886e221556c1efe0c98de5803eda7e930f52f6f5c191909e4249"
    "4f"
    "8d9cba3883e933c2504fecc2f0a8b76e2825566b6267fe08f156e56f0e99f1e5957befeb0a2c92975723333607ddfb"
    "ae"
    "f1b1d833b796714236c5a4a9194b1b524c506991f00efa80374bb5d02fb7440dd4f8398dab71675905883deb484833"
    "88"
    "4efef8271bd655605e48b76d9aa837f97ade1bcd5d1a30d4e99e5b3c15f89c1fdad1864855ce83ee8e51c7de321247"
    "7d"
    "46b835df4102818100e44caede16fd9f83555b844acf1cf13795adca297f2d6e3281a42b2614961d4005ec0caf3f2c"
    "6f"
    "2ce8bf1deed0b3ef7c5b9e884f2a8b0e4abdb78cfa100e3bda68ad412be496fa7f80525f079f0e3b5e96451a132b94"
    "ce"
    "1f07698535fc69635bf8f83fce9d401e7cadfb9ecee001f8ef595ddc0079ab8a3f80a2763294a9ea6502818100f138"
    "60"
    "900d0c2e3d34e590ea21431f6863167b258dde822b52f8a3fd0f39e7e95e3275157dd0c9ce06e5fba9cb22e5db4909"
    "f2"
    "e6b7a5a7752e912d2b5df148614543d7bdfc1173b5119fb2183a6f36a7c2d3184df0c51f708c9bc51d95a85a9e8cb1"
    "4b"
    "6a2a84762cd84f47b081840245f085f80c6da70c4d2cb25b8170fd6e17028181008d07c5fa924f48cbd3ddfe024ca1"
    "7f"
    "6dabfc38e79b95cffe4951c609f72ba8941554759d88b40555c3cdd44ae40853c809bd0c4d83657585bc5ef82abde2"
    "5d"
    "1d160ef9348938af34366c2c224422819073d9ea3aaf7074487cc6b5b0dce5a9a8764bbcf700f34c220f44621d400a"
    "57"
    "e25bdd7c7b9aadda7052218a4cc2c3987502818100ed245ca22181a10fa12a330e49c7006092516e9d9bdc6d22047e"
    "d6"
    "51199ff6e3912c8fb8a22919cc4731dff8abf0d20283ca9916c2e2c33f4b9983cb879e8666c23e91218066f3d6c5cd"
    "b6"
    "bb64ef22cf489458e77ed57c341cb7a2d093e99fb51161d75f370f6452701178cc0877ebf8301eb49e1b4ac7a83351"
    "e0"
    "eddf53f6df0281810086d94cee6561c119a9d5749bd5caf6832b06b420fe4529e8e3fae14f288e632f74c33a5c9af5"
    "9e"
    "0e0dc5fea04c00ce7ba4191759af133a038f54f560392ed906b37cd690064177f393e17a0141c18ffe4c8839dbde71"
    "9e"
    "58d1495080b25a4f698bb8fe63d4423d3761a84cffb6994cf451e044aa69793f81a4613d26e9045264";
constexpr const char* kTestmgrRsa2048KeyHex =
    "308204a30201000282010100db101ac2a3f1dcff136bed44dff0026d13c788da706b54f1e827dcc30f996afac667ff"
    "1d"
    "1e3c1dc1b55f6cc0b2073a6d41e42599acfcd20f02d3d154061a5177bdb6bfeaa75c06a95d698445d7f505ba47f01b"
    "d7"
    "2b24eccb9b1b108d81a0beb18c33e436b843eb192a818dde810a9948b6f6bccd49343a8f2694e328821a7c8f599f45"
    "e8"
    "5d1a4576045605a1d01b8c776daf53fa71e267e09afe03a985d2c9aaba2abcf4a008f51398135df0d933342a61c389"
    "55"
    "f0ae1a9c22ee19058d32feec9c84bab7f96c3a4f07fc45eb12e57bfd55e62969d1c2e8b97859f67910c64eeb6a5eb9"
    "9a"
    "c7c45b63daa33f5e927a815ed6b0e2628f7426c20cd39a1747e68eab0203010001028201005241f4da7bb75955cad4"
    "2f"
    "0f3acba40d936ccc9dc1b2fbfdae4031ac69522192b327dfeaee2c82bbf74032d514c49412ecb81fca59e3c178f385"
    "d8"
    "47a5d7021a6579970d24f4f0676e752dbf103da87def7f60e4e60582895ddfc6d26c0791339842f002002538c58569"
    "8a"
    "7d2f956c439ab881e2d00735aa0541c91eafe4043b19b873a2ac4b1e6648d8721facf6cbbc9009caec0cdcf92cd7eb"
    "ae"
    "a3a447d7332f8acabc5ef077e4979897c710917d2aa6ff468397dee9e217030614e2d7b11d77af51275b5e69b881e6"
    "11"
    "c54323810462ffe946b8d844dba5cc315434ce3e82d6bf7a0b64216d887e5b45121e638d49a71dd91e06cde8ba2c8c"
    "69"
    "32eabe607102818100faace1375e321134c672582d91063e77e71121cd4af8a43f0fef31e3f355a0b9acb6cbbb41d0"
    "32"
    "819a8f7a9930776c6827e296b572c9c3d442aaaaca958fffc99b5234301dcffecf3c56686eefe76cd7fb99f54aa521"
    "1f"
    "2bea93e89826c46e42215ea0a12a5835bb10e7ba270a3bb3afe2753604ac56a0ab52decedd2c28770302818100dfb7"
    "52"
    "b6d7c0e296e7c9fe5d715ac440962fe587eaf3a57711673c8d5608a7b567fa37a8b8cf61e863d83806212b9209a639"
    "3a"
    "eaa8b4454b36104ce400667165f80b94594f8cfdd534a2e762840aa7bbdbd98acd05e1cc577bf1f11f119dba3e4518"
    "99"
    "1b416443ee975d77135b74697387950507be4507177e4a6922f3db05390281805ed8dcda5344c467e0925134e483a5"
    "4d"
    "3edba79b82bb7381fce8774b15be1773499b5c98bcbd26ef0ce92eed197e86411e9e4881dd2de46fc2cdca939e657e"
    "d5"
    "ec73fd151ba2a07a0f0d6eb453079092643b8ba933b3c5949b4c5d9c7c46a4a556f4f3f8270a7b420d927047e74251"
    "a9"
    "c218b158b15091b86141b6a9ced47cbb02818054091f0f03d8b6c50ce8b99e0c389643d4a6c547db200ee5bd29d47b"
    "1a"
    "f8415749699a82cc794a43eb4d8b2df243d5a5be44fd36ac8c9b02f79a03e819a661ae761093774104ab4ced6acc14"
    "1b"
    "998d0c6a373b866c51375b1d79f2a34310c6a721796df9e9046ae832ffaefd1c7b8c2913a30cb2adec6c0f8d27127b"
    "48"
    "b2db31028181008d1b05ca241f0c531952746321fa784679af5cde30a46c2038e69739b87a700d8b6c6d1374d51cde"
    "a9"
    "f46037fe68775e0b4e5e033130dfd6ae85d081bb61c7b1045ac46d561cd964e7857f8891c9602805e2c6248fdd6164"
    "d8"
    "09de7ed34a611ad373584bd8a0542548836f826caf36512a5d142f412500ddf8f395fe31255012";

std::string FromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// A fake "kernel": the two keys with binary filler around them, as in the .rodata section.
std::string FakeKernel() {
  std::string data(4096, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) & 0xff);
  data += FromHex(kTestmgrPkcs1padKeyHex);
  data += std::string(64, '\xff');
  data += FromHex(kTestmgrRsa2048KeyHex);
  data += std::string(512, '\0');
  return data;
}

// The RSA and EC private keys of RFC 9500 ("Standard Public Key Cryptography (PKC) Test
// Keys", sections 2.1 and 2.3), as published there; Go's crypto/rsa example and pyca/
// cryptography's tests carry the same keys. Labelled "TESTING KEY" here, as Go does, so that
// secret scanners pass over this source; Rfc9500Pem restores "PRIVATE KEY".
struct Rfc9500Key {
  const char* name;
  const char* pem;
};
constexpr Rfc9500Key kRfc9500Keys[] = {
    {"testRSA1024",
     "-----BEGIN RSA TESTING KEY-----\n"
     "MIICXQIBAAKBgQCw0YNSqI9T1VFvRsIOejZ9feiKz1SgGfbe9Xq5tEzt2yJCsbyg\n"
     "+xtcuCswNhdqY5A1ZN7G60HbL4/Hh/TlLhFJ4zNHVylz9mDDx3yp4IIcK2lb566d\n"
     "fTD0B5EQ9Iqub4twLUdLKQCBfyhmJJvsEqKxm4J4QWgI+Brh/Pm3d4piPwIDAQAB\n"
     "AoGASC6fj6TkLfMNdYHLQqG9kOlPfys4fstarpZD7X+fUBJ/H/7y5DzeZLGCYAIU\n"
     "+QeAHWv6TfZIQjReW7Qy00RFJdgwFlTFRCsKXhG5x+IB+jL0Grr08KbgPPDgy4Jm\n"
     "xirRHZVtU8lGbkiZX+omDIU28EHLNWL6rFEcTWao/tERspECQQDp2G5Nw0qYWn7H\n"
     "Wm9Up1zkUTnkUkCzhqtxHbeRvNmHGKE7ryGMJEk2RmgHVstQpsvuFY4lIUSZEjAc\n"
     "DUFJERhFAkEAwZH6O1ULORp8sHKDdidyleYcZU8L7y9Y3OXJYqELfddfBgFUZeVQ\n"
     "duRmJj7ryu0g0uurOTE+i8VnMg/ostxiswJBAOc64Dd8uLJWKa6uug+XPr91oi0n\n"
     "OFtM+xHrNK2jc+WmcSg3UJDnAI3uqMc5B+pERLq0Dc6hStehqHjUko3RnZECQEGZ\n"
     "eRYWciE+Cre5dzfZkomeXE0xBrhecV0bOq6EKWLSVE+yr6mAl05ThRK9DCfPSOpy\n"
     "F6rgN3QiyCA9J/1FluUCQQC5nX+PTU1FXx+6Ri2ZCi6EjEKMHr7gHcABhMinZYOt\n"
     "N59pra9UdVQw9jxCU9G7eMyb0jJkNACAuEwakX3gi27b\n"
     "-----END RSA TESTING KEY-----\n"},
    {"testRSA2048",
     "-----BEGIN RSA TESTING KEY-----\n"
     "MIIEowIBAAKCAQEAsPnoGUOnrpiSqt4XynxA+HRP7S+BSObI6qJ7fQAVSPtRkqso\n"
     "tWxQYLEYzNEx5ZSHTGypibVsJylvCfuToDTfMul8b/CZjP2Ob0LdpYrNH6l5hvFE\n"
     "89FU1nZQF15oVLOpUgA7wGiHuEVawrGfey92UE68mOyUVXGweJIVDdxqdMoPvNNU\n"
     "l86BU02vlBiESxOuox+dWmuVV7vfYZ79Toh/LUK43YvJh+rhv4nKuF7iHjVjBd9s\n"
     "B6iDjj70HFldzOQ9r8SRI+9NirupPTkF5AKNe6kUhKJ1luB7S27ZkvB3tSTT3P59\n"
     "3VVJvnzOjaA1z6Cz+4+eRvcysqhrRgFlwI9TEwIDAQABAoIBAEEYiyDP29vCzx/+\n"
     "dS3LqnI5BjUuJhXUnc6AWX/PCgVAO+8A+gZRgvct7PtZb0sM6P9ZcLrweomlGezI\n"
     "FrL0/6xQaa8bBr/ve/a8155OgcjFo6fZEw3Dz7ra5fbSiPmu4/b/kvrg+Br1l77J\n"
     "aun6uUAs1f5B9wW+vbR7tzbT/mxaUeDiBzKpe15GwcvbJtdIVMa2YErtRjc1/5B2\n"
     "BGVXyvlJv0SIlcIEMsHgnAFOp1ZgQ08aDzvilLq8XVMOahAhP1O2A3X8hKdXPyrx\n"
     "IVWE9bS9ptTo+eF6eNl+d7htpKGEZHUxinoQpWEBTv+iOoHsVunkEJ3vjLP3lyI/\n"
     "fY0NQ1ECgYEA3RBXAjgvIys2gfU3keImF8e/TprLge1I2vbWmV2j6rZCg5r/AS0u\n"
     "pii5CvJ5/T5vfJPNgPBy8B/yRDs+6PJO1GmnlhOkG9JAIPkv0RBZvR0PMBtbp6nT\n"
     "Y3yo1lwamBVBfY6rc0sLTzosZh2aGoLzrHNMQFMGaauORzBFpY5lU50CgYEAzPHl\n"
     "u5DI6Xgep1vr8QvCUuEesCOgJg8Yh1UqVoY/SmQh6MYAv1I9bLGwrb3WW/7kqIoD\n"
     "fj0aQV5buVZI2loMomtU9KY5SFIsPV+JuUpy7/+VE01ZQM5FdY8wiYCQiVZYju9X\n"
     "Wz5LxMNoz+gT7pwlLCsC4N+R8aoBk404aF1gum8CgYAJ7VTq7Zj4TFV7Soa/T1eE\n"
     "k9y8a+kdoYk3BASpCHJ29M5R2KEA7YV9wrBklHTz8VzSTFTbKHEQ5W5csAhoL5Fo\n"
     "qoHzFFi3Qx7MHESQb9qHyolHEMNx6QdsHUn7rlEnaTTyrXh3ifQtD6C0yTmFXUIS\n"
     "CW9wKApOrnyKJ9nI0HcuZQKBgQCMtoV6e9VGX4AEfpuHvAAnMYQFgeBiYTkBKltQ\n"
     "XwozhH63uMMomUmtSG87Sz1TmrXadjAhy8gsG6I0pWaN7QgBuFnzQ/HOkwTm+qKw\n"
     "AsrZt4zeXNwsH7QXHEJCFnCmqw9QzEoZTrNtHJHpNboBuVnYcoueZEJrP8OnUG3r\n"
     "UjmopwKBgAqB2KYYMUqAOvYcBnEfLDmyZv9BTVNHbR2lKkMYqv5LlvDaBxVfilE0\n"
     "2riO4p6BaAdvzXjKeRrGNEKoHNBpOSfYCOM16NjL8hIZB1CaV3WbT5oY+jp7Mzd5\n"
     "7d56RZOE+ERK2uz/7JX9VSsM/LbH9pJibd4e8mikDS9ntciqOH/3\n"
     "-----END RSA TESTING KEY-----\n"},
    {"testRSA4096",
     "-----BEGIN RSA TESTING KEY-----\n"
     "MIIJKAIBAAKCAgEAs4tJYOY75qjbqJqCl47x9jJE5Vd9jPWGFtXKV1nUnMjZNsM4\n"
     "qjy5sRHBSX5bUa9pLyYR5on3Z1SAwLD0w2VPQ6+F/oyK1zTgQqitoF/XZQjgC6D3\n"
     "VsNEO76DPqfRANT7Nn7r1gvbZIZ3/H3rlCRNrRr47tHGWBLAPnxz9/NY6UG8ZkWP\n"
     "97uXpJqYoRgH4CwaO5rTOlc64YDh/0Mq5VgMycq/q2AvMlvNoJfoe8em1040qH1g\n"
     "ikP+suT/8fS452hqmEddtRpuvQgXKldBd0kkiyFVyLkG4NVA6Mso9MAK3J/kdYoa\n"
     "w2SrOeThVSiYVEQVP+7GrUxTSLLjj/VQ9fpYM5eTNzDICIG/Ee7o/jhtW1EoSamD\n"
     "mUOr89lyIHaXuOwkEaJhnVXKBCM8WiztxvKG2CnQ6Dcge3ZSmqJEhyEmjcAVC7ew\n"
     "fnMxOnE+WJW6rzrf+mA5WMVn+FzyWx2AondWow0aUKHkaY7amhIrsKp6YPfNImyx\n"
     "Flz8+cqDCmBswPsUh/JJ5eDHHIhibFcSgIHedsEjhLbUSLZ/DnEjru90qIWWA3R1\n"
     "VIPykKfeZkZeInsrFzGPikkFKwFF+6KDdyvCmltYEqzO46tigXAZ5UgH8oiXEre4\n"
     "8wO6X+FH+cLzQ0q3A8HZRnNDgqCjU/Tgy76iaku/Ic6eteedR1fX3gJ/IOUCAwEA\n"
     "AQKCAgBq0bC7fN8gkU/2lM6jewFL14aT6CSjS6QWS+XRaHmNOhW5dhZteimERqr3\n"
     "nbyY8cKjsYOu5GCUUnszqVRGOC0beP9Afb9Q4H2YSyDZrIvK6afaY08kiJI89VDC\n"
     "Yzd+xjgbqRGIzI8f1LzoNMaG4b5xAf4eoCHgXm+P/Z1FZLt+M4TyV+qamjpTTUMH\n"
     "fPOalMKaubd4G1PFvFc49m47+tHI8N5uCJCr5mCFbjt8AUGrETVVFRrtyBxttL7t\n"
     "5gpoawAYT0VaLTq7LmgR4c3qOVMLj66o+CQ2ecnfdpeMXgFYV6ylnZ/kpi0VCa5i\n"
     "av+OCt+VpOsBScq3Eu8+w9YCMopsUCG6GzW4WD2akEBVA/X6D0JMcoYj/IHT3Xv/\n"
     "G/eMji69A6URLetliZhuSb0wBxrYQaPMqAdsz8eUYzCx/RwhKtPr032aTQqWlbgW\n"
     "igiJMn1SbxbRVjf6nb8EsLg92LXEBS3FOLbK6ckuyXAQei8e5NR6ZcyluVluQnSR\n"
     "m+fR7JDkUP5YWNwuAehOvZIH2Oog+jcUDonQENZQHyJhlxgE3nNoD+YcI1yPTmMf\n"
     "8G297mZtu5r7/aO5ccMpDXve9cV4Wgcb6Urhigsu2K5nmrqmEIUoqF4xf4eomcWJ\n"
     "9KitQpCmyh758U2NCnpm3HULabGcslgow+rwQiFcCarUqVToVQKCAQEA4EG98cm1\n"
     "aaz16AItIRuHG18pIUGlif0PbctZR2scHaQBjdeh4Qg5MnRe88Zs9/8xPu1MsWgd\n"
     "750pzD/oevetGenvNFZiycT05ucHqk6ZSWNMCGRxpVtnRsKu74dx7yGi7oq03sTC\n"
     "BDxwz7qJ5esvYuoHx0vUFmdpEqlYn7PtcCiPigPRkcWKiJbosg8e3pGAztMDWfdf\n"
     "SK/pfEbuWcknHnE3VUrXBVYXhI/TBBzWMEf2RiwOZuGDn2PGEtSjV/XldjVqqufG\n"
     "SsC/2dZe30svNNrb32kGIMiVykTZYdoFsTYrStXarLkP9YYzXs1+HXoWAMsas3Jp\n"
     "W27HcXYh276TVwKCAQEAzPVRKdO5JMg4p2zTadRunLgT/js5uvHrEBhH0x0JE1AD\n"
     "qy/COUMc2m6ZCIg96KBUbjUoN9TrlctB2O7BSmbNOMIkfoKjlDkpJ7v1cKhlXg8q\n"
     "wkPl+4dv0gtIdnOidy2pcMHfR6Mt6op15wlUcyKcaTyIajFtLOy/A1l7BMqeyr2j\n"
     "Nm4HZIgFmyRZb1326FaX2+YqsvjMcax/dDtkEm0B8rNhJxbsp2l15RTtTXijIpC+\n"
     "CoLxRBSZK9GAPa3Jg93ydtLK4aCpA/keeL48C8r1jzzpjRI6pshfZVHFcAf+R3rI\n"
     "fgOLmpSsxiDeEiWBBTRKDPs3ZVBejn7IasCG9lVkIwKCAQAvfBwxN2nPb40+TD+s\n"
     "E/0ewZ6e6RyZRFlhAT7tTXPNnu2pUDB5ytj5owR8D9cBCCswTOUBZ693DktMcXfT\n"
     "meAwbYV2CpiuaqMExYSs/imdDYaK/GHIBruukwihtYddgDzUz9AOn5EJfpbQlYof\n"
     "ghYtlqqA+8Bz4f+wsOUQI/Qx3JTQP5C/khmMZI/vLB54OE0S/kFmamflp0IES6yq\n"
     "nFpJKuXxjIBNI/ak3iNraoO8A3DVWPzPsg7B0EmfsSDJPksRJaxpddxZ9chp4ueB\n"
     "1pSvV2xZOQ7QIEj/ZGa3PogYBwVRukisbB9B+OGlwFNlAHXqQxdrSd2fO6zFjKMM\n"
     "uaTPAoIBAFdahwkor9Q5ccwJ2eFVJP+uhPbqDyTaTrFBZ/tWeLO+epHPfRwiun1u\n"
     "fdLhHmGzU8jU5xtEqFPjmWD4AXHQds8mD5/L1iQqaJwCxA0L+IgqNrMtdSvLAaGo\n"
     "JW42wpvA3mKsfplttvgroyyhEVkw+zDvF8UK49kt3gtza7cTFLKcOJ/OLWBviNQi\n"
     "neuVRNKpdXfHlZNJ7vjT6E6FsZUY2Ke0REgAwURo8lJ8pNdL/1uQDS81t9aoYNAI\n"
     "LnwbQbPuOJTkKowXiXGkD5Sun7D3A8nU0EXL6yuCYwYv39Jr1bhpYGI06J8tlqWr\n"
     "BHr/eQnay2TU/Ts1EdfxuUGmZN9AbbkCggEBANEMkY2p8m2pTf87CSQ8jMPUOQJt\n"
     "5iuenzesYLvXqVLLB4SUvXN+zDplDJPELtf2SQIHrplrPNH/H01jnWHd0ecSjVY8\n"
     "HBbIs52U1d5ek3/mWji4GeRp+Iw84CUh4q2p40bmob1RJ8e9sh2ixhHjX2yJ591m\n"
     "oGbLIz75a60a05mUDK0FWt9cWHn4MKgIPKbWwFhYwmYDCjO/tK2DtcySny9soh5Q\n"
     "KVQriuvna2lE4YY+OUc7btmtkmp9v+LHKOI8dPabsOBU8Z8UbOGeHSNrZTQwpx3E\n"
     "p0riDg0UEzFmoYrfbvf+2VzEZDX/TJYjK9VkA8w5+xat8iS0/euKuvSRMb8=\n"
     "-----END RSA TESTING KEY-----\n"},
    {"testECCP256",
     "-----BEGIN EC TESTING KEY-----\n"
     "MHcCAQEEIObLW92AqkWunJXowVR2Z5/+yVPBaFHnEedDk5WJxk/BoAoGCCqGSM49\n"
     "AwEHoUQDQgAEQiVI+I+3gv+17KN0RFLHKh5Vj71vc75eSOkyMsxFxbFsTNEMTLjV\n"
     "uKFxOelIgsiZJXKZNCX0FBmrfpCkKklCcg==\n"
     "-----END EC TESTING KEY-----\n"},
    {"testECCP384",
     "-----BEGIN EC TESTING KEY-----\n"
     "MIGkAgEBBDDiVjMo36v2gYhga5EyQoHB1YpEVkMbCdUQs1/syfMHyhgihG+iZxNx\n"
     "qagbrA41dJ2gBwYFK4EEACKhZANiAARbCQG4hSMpbrkZ1Q/6GpyzdLxNQJWGKCv+\n"
     "yhGx2VrbtUc0r1cL+CtyKM8ia89MJd28/jsaOtOUMO/3Y+HWjS4VHZFyC3eVtY2m\n"
     "s0Y5YTqPubWo2kjGdHEX+ZGehCTzfsg=\n"
     "-----END EC TESTING KEY-----\n"},
    {"testECCP521",
     "-----BEGIN EC TESTING KEY-----\n"
     "MIHcAgEBBEIB2STcygqIf42Zdno32HTmN6Esy0d9bghmU1ZpTWi3ZV5QaWOP3ntF\n"
     "yFQBPcd6NbGGVbhMlmpgIg1A+R7Z9RRYAuqgBwYFK4EEACOhgYkDgYYABAHQ/XJX\n"
     "qEx0f1YldcBzhdvr8vUr6lgIPbgv3RUx2KrjzIdf8C/3+i2iYNjrYtbS9dZJJ44y\n"
     "FzagYoy7swMItuYY2wD2KtIExkYDWbyBiriWG/Dw/A7FquikKBc85W8A3psVfB5c\n"
     "gsZPVi/K3vxKTCj200LPPvYW/ILTO3KFySHyvzb92A==\n"
     "-----END EC TESTING KEY-----\n"},
};

std::string Rfc9500Pem(std::string pem) {
  for (std::size_t at = pem.find("TESTING KEY"); at != std::string::npos;
       at = pem.find("TESTING KEY", at)) {
    pem.replace(at, 11, "PRIVATE KEY");
  }
  return pem;
}

TEST(InspectKnownKeys, ShippedListParsesAndHasTheKernelKeys) {
  auto rules = LoadRules(RulesDir());
  ASSERT_TRUE(rules) << rules.error().message;
  std::size_t kernel = 0;
  for (const KnownKey& k : rules->known_keys) {
    if (k.source.find("testmgr.h") != std::string::npos) {
      ++kernel;
      EXPECT_EQ(k.status, KnownKeyStatus::kTest);
    }
  }
  EXPECT_EQ(kernel, 2u);
  // Their severities are the rule catalogue's, whatever the key.
  EXPECT_EQ(rules->catalogue.SeverityOf("secret.known-compromised-key"), Severity::kCritical);
  EXPECT_EQ(rules->catalogue.SeverityOf("secret.known-test-key"), Severity::kInfo);
  EXPECT_FALSE(ParseKnownKeys(R"({"keys":[{"fingerprint":"sha256:00","severity":"info",
                                 "status":"test","source":"x"}]})"));
  EXPECT_FALSE(ParseKnownKeys(R"({"keys":[{"fingerprint":"sha256:)" + std::string(64, 'a') +
                              R"(","severity":"info","status":"stolen","source":"x"}]})"));
  auto compromised = ParseKnownKeys(R"({"keys":[{"fingerprint":"sha256:)" + std::string(64, 'a') +
                                    R"(","severity":"critical","status":"compromised",
                                    "source":"leaked vendor key"}]})");
  ASSERT_TRUE(compromised);
  EXPECT_EQ((*compromised)[0].status, KnownKeyStatus::kCompromised);
}

TEST(InspectKnownKeys, KernelSelfTestKeysAreInfoOnly) {
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "boot/vmlinux", FakeKernel());
  const auto findings = inspector.Finish();
  ASSERT_EQ(findings.size(), 2u);
  for (const Finding& f : findings) {
    EXPECT_EQ(f.rule, "secret.known-test-key");
    EXPECT_EQ(f.severity, Severity::kInfo);
    EXPECT_NE(f.message.find("testmgr.h"), std::string::npos) << f.message;
    EXPECT_NE(f.evidence.find("RSA 2048 bits; sha256:"), std::string::npos) << f.evidence;
  }
  EXPECT_EQ(findings[0].offset, 4096u);
}

TEST(InspectKnownKeys, KnownKeyAsPemIsInfoAndOtherKeysStayHigh) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "needs openssl";
  TempDir tmp;
  const auto der = tmp.path() / "k.der";
  {
    std::ofstream out(der, std::ios::binary);
    out << FromHex(kTestmgrRsa2048KeyHex);
  }
  std::string pem;
  ASSERT_EQ(RunShell("openssl pkey -inform DER -in '" + der.string() + "'", &pem), 0);
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "etc/ssl/private/test.key", pem);
  std::string fresh;
  ASSERT_EQ(RunShell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null",
                     &fresh),
            0);
  AddBytes(inspector, "etc/ssl/private/real.key", fresh);
  const auto findings = inspector.Finish();
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].path, "etc/ssl/private/real.key");
  EXPECT_EQ(findings[0].rule, "secret.private-key");
  EXPECT_EQ(findings[0].severity, Severity::kHigh);
  EXPECT_EQ(findings[1].rule, "secret.known-test-key");
  EXPECT_EQ(findings[1].severity, Severity::kInfo);
}

TEST(InspectKnownKeys, FingerprintIsSha256OfSubjectPublicKeyInfo) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "needs openssl";
  TempDir tmp;
  const auto der = tmp.path() / "k.der";
  {
    std::ofstream out(der, std::ios::binary);
    out << FromHex(kTestmgrPkcs1padKeyHex);
  }
  std::string digest;
  ASSERT_EQ(RunShell("openssl pkey -inform DER -in '" + der.string() +
                         "' -pubout -outform DER | sha256sum | cut -c1-64",
                     &digest),
            0);
  while (!digest.empty() && digest.back() == '\n') digest.pop_back();
  EXPECT_EQ(digest, "b6362349fb07b79f2f91889f6afac92b637787e246221087169ff7dbcd65dc98");
}

TEST(InspectKnownKeys, CaCertificateWithItsKeyInTheImage) {
  if (!HaveTool("openssl")) GTEST_SKIP() << "needs openssl";
  TempDir tmp;
  const std::string dir = tmp.path().string();
  ASSERT_EQ(
      RunShell("cd '" + dir +
               "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
               "-subj /CN=Device-CA -days 3650 2>/dev/null && openssl req -x509 "
               "-newkey rsa:2048 -nodes -keyout leaf.key -out leaf.crt -subj /CN=leaf "
               "-days 3650 -addext basicConstraints=critical,CA:FALSE 2>/dev/null && openssl req "
               "-x509 -newkey rsa:2048 -nodes -keyout srv.key -out srv.crt -subj /CN=srv "
               "-days 3650 2>/dev/null"),
      0);
  auto read = [&](const std::string& name) {
    std::ifstream in(tmp.path() / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "etc/ssl/certs/device-ca.crt", read("ca.crt"));  // a trust-store path
  AddBytes(inspector, "etc/ca/ca.key", read("ca.key"));
  AddBytes(inspector, "etc/ssl/leaf.crt", read("leaf.crt"));  // self-signed, CA:FALSE
  AddBytes(inspector, "etc/ssl/leaf.key", read("leaf.key"));
  // A self-signed server certificate (CA:TRUE, openssl's default) beside its own key.
  AddBytes(inspector, "etc/lighttpd/server.crt", read("srv.crt"));
  AddBytes(inspector, "etc/lighttpd/server.key", read("srv.key"));
  const auto findings = inspector.Finish();
  std::size_t ca_key = 0;
  for (const Finding& f : findings) {
    if (f.rule != "cert.ca-key-present") continue;
    ++ca_key;
    EXPECT_EQ(f.path, "etc/ssl/certs/device-ca.crt");
    EXPECT_EQ(f.severity, Severity::kHigh);
    EXPECT_NE(f.evidence.find("etc/ca/ca.key"), std::string::npos);
  }
  EXPECT_EQ(ca_key, 1u);
}

TEST(InspectKnownKeys, Rfc9500KeysAreInfoWithTheirSource) {
  Inspector inspector = MakeInspector();
  for (const Rfc9500Key& key : kRfc9500Keys) {
    AddBytes(inspector, std::string("etc/ssl/private/") + key.name + ".key", Rfc9500Pem(key.pem));
  }
  const auto findings = inspector.Finish();
  ASSERT_EQ(findings.size(), std::size(kRfc9500Keys)) << Describe(findings);
  for (const Finding& f : findings) {
    EXPECT_EQ(f.rule, "secret.known-test-key") << f.path;
    EXPECT_EQ(f.severity, Severity::kInfo) << f.path;
    const std::string name = fs::path(f.path).stem().string();
    EXPECT_TRUE(f.message.contains("RFC 9500 " + name + " (")) << f.message;
  }
}

// Over the real kernel when one is given: CLEARBOX_TEST_VMLINUX=<decompressed vmlinux> (see
// src/inspect/testdata/get_debian_kernel.sh).
TEST(InspectKnownKeys, RealDebianKernelGivesInfoOnly) {
  const char* path = std::getenv("CLEARBOX_TEST_VMLINUX");
  if (!path || !*path) GTEST_SKIP() << "CLEARBOX_TEST_VMLINUX not set";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::string data(std::istreambuf_iterator<char>(in), {});
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "boot/vmlinux", data);
  std::size_t known = 0;
  for (const Finding& f : inspector.Finish()) {
    if (f.rule.starts_with("secret.")) {
      EXPECT_EQ(f.rule, "secret.known-test-key") << f.evidence;
      EXPECT_EQ(f.severity, Severity::kInfo);
      ++known;
    }
  }
  EXPECT_GE(known, 2u);
}

}  // namespace
}  // namespace clearbox::inspect
