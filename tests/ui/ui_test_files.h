#pragma once
// Small CxC / COCO files on disk for the UI tests that load data through the real readers: ten
// captions of five images and twelve CxC-style pairs (five same-image, seven across images).
#include <QByteArray>
#include <QFile>
#include <QString>
#include <QtTest/QtTest>

#include <iterator>

namespace syn::test {

inline const char* kCaptions[][3] = {  // caption id, image id, text
    {"11", "1", "a dog runs on the beach"},          {"12", "1", "a brown dog running along the sand"},
    {"13", "2", "a cat sleeps on a red sofa"},       {"14", "2", "a cat curled up asleep on a couch"},
    {"15", "3", "a man rides a wave on a surfboard"}, {"16", "3", "a surfer riding a big wave"},
    {"17", "4", "a plate of broccoli and rice"},     {"18", "4", "rice with vegetables on a white plate"},
    {"19", "5", "a red bus crosses a busy street"},  {"20", "5", "a double decker bus in the city"},
};
inline const char* kPairs[][4] = {  // id1, id2, score, method
    {"11", "12", "4.2", "c2c_cocaption"}, {"13", "14", "4.5", "c2c_cocaption"}, {"15", "16", "4.0", "c2c_cocaption"},
    {"17", "18", "3.8", "c2c_cocaption"}, {"19", "20", "3.5", "c2c_cocaption"}, {"11", "13", "1.0", "c2c_isim"},
    {"12", "16", "1.5", "c2c_isim"},      {"14", "19", "0.2", "c2c_isim"},      {"15", "17", "0.0", "c2c_isim"},
    {"18", "20", "0.4", "c2c_isim"},      {"16", "11", "2.1", "c2c_isim"},      {"13", "20", "0.1", "c2c_isim"},
};

inline void write_file(const QString& path, const QByteArray& text) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

// Writes a small CxC csv (optionally with a bad row) and COCO captions json into dir.
inline void write_data(const QString& dir, bool bad_row = false) {
    QByteArray json = R"({"images": [)";
    for (int i = 1; i <= 5; ++i) json += QByteArray(i > 1 ? "," : "") + "{\"id\": " + QByteArray::number(i) + "}";
    json += R"(], "annotations": [)";
    for (size_t i = 0; i < std::size(kCaptions); ++i)
        json += QByteArray(i ? "," : "") + "{\"id\": " + kCaptions[i][0] + ", \"image_id\": " + kCaptions[i][1] +
                ", \"caption\": \"" + kCaptions[i][2] + "\"}";
    json += "]}";
    write_file(dir + "/captions.json", json);
    QByteArray csv = "caption1,caption2,agg_score,sampling_method\n";
    for (const auto& p : kPairs)
        csv += QByteArray("COCO_val2014:sentid:") + p[0] + ",COCO_val2014:sentid:" + p[1] + "," + p[2] + "," + p[3] + "\n";
    if (bad_row) csv += "COCO_val2014:sentid:11,COCO_val2014:sentid:14,seven,c2c_isim\n";
    write_file(dir + "/sts.csv", csv);
}

}  // namespace syn::test
